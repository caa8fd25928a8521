import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsIn,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';

export class ChatMessageDto {
  @IsIn(['system', 'user', 'assistant'])
  role!: 'system' | 'user' | 'assistant';

  @IsOptional()
  @IsString()
  @MaxLength(80)
  name = '';

  @IsString()
  @MaxLength(400_000)
  content!: string;
}

export class GenerationParamsDto {
  /** 0 means the service default. */
  @IsInt()
  @Min(0)
  maxNewTokens = 0;

  @IsNumber()
  @Min(0)
  @Max(2)
  temperature = 0;

  @IsInt()
  @Min(0)
  @Max(100_000)
  topK = 0;

  /** 0 means "no nucleus cut" (same as 1). */
  @IsNumber()
  @Min(0)
  @Max(1)
  topP = 0;

  @IsInt()
  @Min(0)
  seed = 0;

  /** 0 or 1 means off. */
  @IsNumber()
  @Min(0)
  @Max(10)
  repetitionPenalty = 0;

  @IsArray()
  @ArrayMaxSize(16)
  @IsString({ each: true })
  @MinLength(1, { each: true })
  @MaxLength(200, { each: true })
  stop: string[] = [];
}

export class GenerateRequestDto {
  @IsString()
  @MaxLength(128)
  requestId = '';

  @IsString()
  @MaxLength(200)
  model = '';

  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(10_000)
  @ValidateNested({ each: true })
  @Type(() => ChatMessageDto)
  messages!: ChatMessageDto[];

  @IsOptional()
  @ValidateNested()
  @Type(() => GenerationParamsDto)
  params: GenerationParamsDto = new GenerationParamsDto();

  /** '' means interactive. */
  @IsIn(['', 'interactive', 'bulk'])
  priority: '' | 'interactive' | 'bulk' = '';

  /** 0 means the call deadline / service default alone. */
  @IsInt()
  @Min(0)
  @Max(24 * 3600 * 1000)
  timeoutMs = 0;

  /** After the first token, deltas at most this often (ms); 0 means as the service streams them. */
  @IsInt()
  @Min(0)
  @Max(5000)
  streamIntervalMs = 0;
}
