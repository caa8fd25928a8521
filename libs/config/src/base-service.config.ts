import { IsIn, IsInt, IsNotEmpty, IsString, Matches, Max, Min } from 'class-validator';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** Settings every service shares. Each app's config class extends this one. */
export class BaseServiceConfig {
  @Matches(/^rediss?:\/\/[^\s]+$/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Every Redis key this deployment writes starts with it, so tests and tenants never collide. */
  @IsString()
  @Matches(/^[A-Za-z0-9:_-]+$/, { message: 'may hold only letters, digits, ":", "_" and "-"' })
  REDIS_KEY_PREFIX = 'troupe:';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** How long SIGTERM waits for in-flight calls before closing anyway. */
  @IsInt()
  @Min(0)
  @Max(600_000)
  SHUTDOWN_TIMEOUT_MS = 10_000;

  /** Bind address for every listener of the service. */
  @IsString()
  @IsNotEmpty()
  BIND_HOST = '0.0.0.0';
}
