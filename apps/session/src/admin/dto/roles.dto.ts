import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { ArrayMaxSize, IsArray, IsIn, IsInt, IsObject, IsOptional, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';
import { ROLE_ID_PATTERN } from '@troupe/domain';

/**
 * A role as the admin API takes it (role-context checks it again, deeper, on PutRole). The id
 * comes from the path.
 */
export class RoleBodyDto {
  @ApiProperty({ example: 'Helper' })
  @IsString()
  @MinLength(1)
  @MaxLength(80)
  name!: string;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(2000)
  description?: string;

  @ApiProperty({ example: 'You are Helper, a patient assistant.' })
  @IsString()
  @MinLength(1)
  @MaxLength(20_000)
  persona!: string;

  @ApiProperty({ example: 'tiny-decoder' })
  @IsString()
  @MinLength(1)
  @MaxLength(200)
  model!: string;

  @ApiPropertyOptional({ example: { maxNewTokens: 64, temperature: 0.8, topK: 40, topP: 0.95 } })
  @IsOptional()
  @IsObject()
  generation?: Record<string, number>;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(256)
  @IsString({ each: true })
  tools?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsInt()
  @Min(64)
  @Max(1_000_000)
  contextTokenBudget?: number;

  @ApiPropertyOptional({ type: [String] })
  @IsOptional()
  @IsArray()
  @IsString({ each: true })
  goals?: string[];

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  style?: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: { type: 'string' } })
  @IsOptional()
  @IsObject()
  variables?: Record<string, string>;

  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  cacheClass?: string;

  @ApiPropertyOptional({ example: { blockLimitChars: 2000, sharedBlocks: [], recallTopK: 0 } })
  @IsOptional()
  @IsObject()
  memory?: Record<string, unknown>;
}

export class MemoryBlockExportDto {
  @ApiProperty()
  @Matches(/^[a-z0-9][a-z0-9_.-]{0,63}$/, { message: 'name must be a block name' })
  name!: string;

  @ApiProperty({ enum: ['role', 'shared'] })
  @IsIn(['role', 'shared'])
  scope!: 'role' | 'shared';

  @ApiProperty()
  @IsString()
  @MaxLength(100_000)
  text!: string;
}

/** One file: a role and its memory blocks (export answers it, import takes it back). */
export class RoleExportDto {
  @ApiProperty({ example: 'troupe.role/v1' })
  @IsIn(['troupe.role/v1'])
  format!: 'troupe.role/v1';

  @ApiProperty({ example: 'helper' })
  @Matches(ROLE_ID_PATTERN, { message: 'id must be a role id' })
  id!: string;

  @ApiProperty({ type: RoleBodyDto })
  @ValidateNested()
  @Type(() => RoleBodyDto)
  role!: RoleBodyDto;

  @ApiProperty({ type: [MemoryBlockExportDto] })
  @IsArray()
  @ArrayMaxSize(256)
  @ValidateNested({ each: true })
  @Type(() => MemoryBlockExportDto)
  memoryBlocks!: MemoryBlockExportDto[];
}

export class VersionQuery {
  @ApiPropertyOptional({ description: '0 or absent: latest' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  version?: number;
}

export class DiffQuery {
  @ApiProperty()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  from!: number;

  @ApiProperty()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  to!: number;
}

