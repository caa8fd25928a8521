import { IsString, MaxLength, MinLength } from 'class-validator';

/** Load/Reload/Unload: a model name or a folder of the models directory. */
export class ModelRequestDto {
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  name!: string;
}
