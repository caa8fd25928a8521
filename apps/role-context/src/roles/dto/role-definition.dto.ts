import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  IsObject,
  IsArray,
  IsInt,
  IsNumber,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { ROLE_ID_PATTERN } from '@troupe/domain';

export class GenerationDefaultsDto {
  @IsInt()
  @Min(1)
  @Max(4096)
  maxNewTokens = 64;

  @IsNumber()
  @Min(0)
  @Max(2)
  temperature = 0.8;

  @IsInt()
  @Min(0)
  @Max(1000)
  topK = 40;

  @IsNumber()
  @Min(0)
  @Max(1)
  topP = 0.95;
}

export class MemorySettingsDto {
  @IsInt()
  @Min(16)
  @Max(1_000_000)
  blockLimitChars = 2000;

  @IsArray()
  @ArrayMaxSize(32)
  @Matches(/^[a-z0-9][a-z0-9_-]{0,62}$/, { each: true, message: 'each shared block name must be lowercase letters, digits, "_" or "-"' })
  sharedBlocks: string[] = [];

  @IsInt()
  @Min(0)
  @Max(20)
  recallTopK = 0;
}

/** A role as written in a file under roles/ or sent by an operator. */
export class RoleDefinitionDto {
  @Matches(ROLE_ID_PATTERN, { message: 'id must be lowercase letters, digits and "-" (1-63 chars)' })
  id!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(80)
  name!: string;

  @IsOptional()
  @IsString()
  @MaxLength(500)
  description = '';

  @IsString()
  @MinLength(1)
  @MaxLength(20_000)
  persona!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model!: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => GenerationDefaultsDto)
  generation: GenerationDefaultsDto = new GenerationDefaultsDto();

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(256)
  @IsString({ each: true })
  tools: string[] = [];

  @IsOptional()
  @IsInt()
  @Min(64)
  @Max(1_000_000)
  contextTokenBudget = 2048;

  @IsOptional()
  @IsArray()
  @ArrayMaxSize(32)
  @IsString({ each: true })
  @MaxLength(500, { each: true })
  goals: string[] = [];

  @IsOptional()
  @IsString()
  @MaxLength(2000)
  style = '';

  /** Defaults of the persona's own {{variables}}; a request may override them. */
  @IsOptional()
  @IsObject()
  variables: Record<string, string> = {};

  @IsOptional()
  @Matches(/^[a-z][a-z0-9-]{0,31}$/, { message: 'cacheClass must be a cache class name' })
  cacheClass = 'persona';

  @IsOptional()
  @ValidateNested()
  @Type(() => MemorySettingsDto)
  memory: MemorySettingsDto = new MemorySettingsDto();
}
