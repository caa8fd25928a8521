import { ArrayMaxSize, ArrayMinSize, IsArray, IsString, MaxLength } from 'class-validator';

export class EmbedRequestDto {
  /** '' means the default embedding model. */
  @IsString()
  @MaxLength(200)
  model = '';

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(512)
  @IsString({ each: true })
  @MaxLength(100_000, { each: true })
  texts!: string[];
}
