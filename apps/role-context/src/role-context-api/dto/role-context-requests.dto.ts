import { Type } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsJSON,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateIf,
  ValidateNested,
  ValidationArguments,
  ValidatorConstraint,
  ValidatorConstraintInterface,
  Validate,
} from 'class-validator';
import { ROLE_ID_PATTERN, SESSION_ID_PATTERN } from '@troupe/domain';

/** Empty (no person) or an id safe inside a Redis key. */
export const USER_ID_PATTERN = /^$|^[A-Za-z0-9_.@:|-]{1,128}$/;
export const BLOCK_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

const SESSION_ID_MESSAGE = 'must be 1-64 letters, digits, "_" or "-"';
const USER_ID_MESSAGE = 'must be empty or 1-128 letters, digits, "_", ".", "@", ":", "|" or "-"';

@ValidatorConstraint({ name: 'stringMap' })
class StringMapConstraint implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return (
      typeof value === 'object' &&
      value !== null &&
      Object.keys(value).length <= 64 &&
      Object.values(value).every((v) => typeof v === 'string' && v.length <= 2000)
    );
  }
  defaultMessage(args: ValidationArguments): string {
    return `${args.property} must map names to strings (at most 64, each up to 2000 characters)`;
  }
}

export class GetRoleDto {
  @Matches(ROLE_ID_PATTERN, { message: 'must be a role id' })
  id!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  version = 0;
}

export class RoleIdDto {
  @Matches(ROLE_ID_PATTERN, { message: 'must be a role id' })
  id!: string;
}

export class PutRoleDto {
  @IsString()
  @MinLength(2)
  @MaxLength(100_000)
  definitionJson!: string;
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

  @IsOptional()
  @ValidateIf((o: HistoryEntryDto) => o.toolCallsJson !== '')
  @IsJSON({ message: 'toolCallsJson must be JSON text (or empty)' })
  @MaxLength(200_000)
  toolCallsJson = '';
}

export class AppendHistoryDto {
  @Matches(SESSION_ID_PATTERN, { message: SESSION_ID_MESSAGE })
  sessionId!: string;

  @ValidateNested()
  @Type(() => HistoryEntryDto)
  entry!: HistoryEntryDto;
}

export class GetHistoryDto {
  @Matches(SESSION_ID_PATTERN, { message: SESSION_ID_MESSAGE })
  sessionId!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  limit = 0;
}

export class AssembleContextDto {
  @Matches(SESSION_ID_PATTERN, { message: SESSION_ID_MESSAGE })
  sessionId!: string;

  @Matches(ROLE_ID_PATTERN, { message: 'must be a role id' })
  roleId!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  roleVersion = 0;

  @IsOptional()
  @IsBoolean()
  followLatest = false;

  @IsOptional()
  @Matches(USER_ID_PATTERN, { message: USER_ID_MESSAGE })
  userId = '';

  @IsOptional()
  @IsObject()
  @Validate(StringMapConstraint)
  variables: Record<string, string> = {};

  /** Appended to the history before the context is assembled (a turn's opening message). */
  @IsOptional()
  @ValidateNested()
  @Type(() => HistoryEntryDto)
  append?: HistoryEntryDto | null;
}

export class MemoryOwnerDto {
  @Matches(ROLE_ID_PATTERN, { message: 'must be a role id' })
  roleId!: string;

  @IsOptional()
  @Matches(USER_ID_PATTERN, { message: USER_ID_MESSAGE })
  userId = '';
}

export class GetMemoryBlockDto extends MemoryOwnerDto {
  @Matches(BLOCK_NAME_PATTERN, { message: 'must be lowercase letters, digits, "_" or "-" (1-63)' })
  name!: string;

  @IsOptional()
  @IsIn(['', 'role', 'user', 'shared'])
  scope = '';
}

export class PutMemoryBlockDto extends GetMemoryBlockDto {
  @IsString()
  @MaxLength(1_000_000)
  text!: string;

  @IsOptional()
  @IsIn(['', 'replace', 'append'])
  mode = '';

  @IsOptional()
  @IsInt()
  @Min(0)
  expectedVersion = 0;
}

export class RememberFactDto extends MemoryOwnerDto {
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  text!: string;
}

export class RecallFactsDto extends MemoryOwnerDto {
  @IsString()
  @MinLength(1)
  @MaxLength(4000)
  query!: string;

  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(50)
  topK = 0;
}
