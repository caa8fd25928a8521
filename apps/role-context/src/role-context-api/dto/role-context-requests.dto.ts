import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, MaxLength, Min, MinLength, ValidateNested } from 'class-validator';

export const SESSION_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
export const ROLE_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

export class GetRoleDto {
  @Matches(ROLE_ID_PATTERN, { message: 'must be a role id' })
  id!: string;
}

export class HistoryEntryDto {
  @IsIn(['person', 'role'])
  speakerKind!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(80)
  speaker!: string;

  @IsString()
  @MaxLength(200_000)
  text!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  tokenCount = 0;

  @IsOptional()
  @IsString()
  @MaxLength(64)
  turnId = '';
}

export class AppendHistoryDto {
  @Matches(SESSION_ID_PATTERN, { message: 'must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @ValidateNested()
  @Type(() => HistoryEntryDto)
  entry!: HistoryEntryDto;
}

export class GetHistoryDto {
  @Matches(SESSION_ID_PATTERN, { message: 'must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  limit = 0;
}

export class AssembleContextDto {
  @Matches(SESSION_ID_PATTERN, { message: 'must be 1-64 letters, digits, "_" or "-"' })
  sessionId!: string;

  @Matches(ROLE_ID_PATTERN, { message: 'must be a role id' })
  roleId!: string;
}
