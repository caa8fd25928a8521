import { IsInt, IsString, Max, Min, MinLength } from 'class-validator';
import { BaseServiceConfig } from '@troupe/config';

export class RoleContextConfig extends BaseServiceConfig {
  @IsInt()
  @Min(1)
  @Max(65535)
  ROLE_CONTEXT_HTTP_PORT = 3001;

  @IsInt()
  @Min(1)
  @Max(65535)
  ROLE_CONTEXT_GRPC_PORT = 50051;

  /** Folder of role definition files (*.json) seeded at start-up; relative paths start at the working directory. */
  @IsString()
  @MinLength(1)
  ROLES_DIR = 'roles';

  /** Entries kept per session history stream (older ones are trimmed). */
  @IsInt()
  @Min(10)
  @Max(1_000_000)
  HISTORY_MAX_ENTRIES = 10_000;

  /** Most recent history entries a role sees on its turn (token budgets come later). */
  @IsInt()
  @Min(1)
  @Max(10_000)
  CONTEXT_MAX_HISTORY_ENTRIES = 24;
}
