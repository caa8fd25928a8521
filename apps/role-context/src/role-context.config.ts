import { IsBoolean, IsInt, IsString, Max, Min, MinLength, Validate, ValidatorConstraint, ValidatorConstraintInterface, ValidationArguments } from 'class-validator';
import { BaseServiceConfig } from '@troupe/config';
import { CachePolicy, DEFAULT_CACHE_POLICIES, parseCachePolicies } from './caches/cache-policy';

@ValidatorConstraint({ name: 'cachePolicies' })
class CachePoliciesConstraint implements ValidatorConstraintInterface {
  private problem = '';
  validate(value: unknown): boolean {
    if (value === 'default') return true;
    try {
      parseCachePolicies(String(value));
      return true;
    } catch (e) {
      this.problem = (e as Error).message;
      return false;
    }
  }
  defaultMessage(_args: ValidationArguments): string {
    return this.problem;
  }
}

@ValidatorConstraint({ name: 'declaredCacheClass' })
class DeclaredCacheClassConstraint implements ValidatorConstraintInterface {
  validate(value: unknown, args: ValidationArguments): boolean {
    const config = args.object as RoleContextConfig;
    try {
      return config.cachePolicies().some((p) => p.name === value);
    } catch {
      return true; // CACHE_CLASSES itself is reported
    }
  }
  defaultMessage(): string {
    return 'must name a class declared in CACHE_CLASSES';
  }
}

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

  /** Model folders (`<name>/manifest.json` + tokenizer.json): token counts use the bound model's own tokenizer. */
  @IsString()
  @MinLength(1)
  MODELS_DIR = 'models';

  /** The inference service, asked for embeddings (recall memory falls back to keywords without it). */
  @IsString()
  @MinLength(1)
  INFERENCE_ADDRESS = '127.0.0.1:50053';

  /** Embedding model name sent to Embed; empty asks for the inference service's default. */
  @IsString()
  EMBEDDING_MODEL = '';

  /** After Embed fails (e.g. UNIMPLEMENTED), keyword search is used for this long before trying again. */
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  EMBED_RETRY_MS = 30_000;

  /**
   * Seconds a session's history, summary, window marks and role pins live after its last
   * append (sliding; 0 keeps them forever). Match the session service's SESSION_TTL_SECONDS,
   * so a session's data here goes when the session does instead of piling up in Redis.
   */
  @IsInt()
  @Min(0)
  HISTORY_TTL_SECONDS = 7 * 24 * 3600;

  /** Entries kept per session history stream (all of them are candidates for a window); older ones are folded into the rolling summary. */
  @IsInt()
  @Min(4)
  @Max(1_000_000)
  HISTORY_MAX_ENTRIES = 200;

  /** Compaction runs once a stream holds this many entries beyond HISTORY_MAX_ENTRIES (amortises its cost). */
  @IsInt()
  @Min(1)
  @Max(100_000)
  HISTORY_COMPACTION_BATCH = 20;

  /** Longest rolling summary, in characters (older summary lines drop out first). */
  @IsInt()
  @Min(100)
  @Max(100_000)
  SUMMARY_MAX_CHARS = 2000;

  /** Hard ceiling on any memory block's size, in characters, whatever a role asks for. */
  @IsInt()
  @Min(16)
  @Max(1_000_000)
  MEMORY_BLOCK_MAX_CHARS = 8000;

  /** Facts kept per (role, person) for recall; the oldest go first. */
  @IsInt()
  @Min(1)
  @Max(100_000)
  RECALL_MAX_FACTS = 1000;

  /** Cache classes as a JSON array of {name, ttlMs, expiry, maxBytes, eviction, redisTier}, or "default". */
  @Validate(CachePoliciesConstraint)
  CACHE_CLASSES = 'default';

  /** The class holding assembled windows (roles name the class of their persona and prompt prefix). */
  @IsString()
  @Validate(DeclaredCacheClassConstraint)
  WINDOW_CACHE_CLASS = 'window';

  /** false turns every cache off (for measuring the cold path). */
  @IsBoolean()
  CACHES_ENABLED = true;

  /** How long a write waits for the other instances to confirm they dropped stale cache entries. */
  @IsInt()
  @Min(0)
  @Max(60_000)
  INVALIDATION_ACK_TIMEOUT_MS = 2000;

  cachePolicies(): CachePolicy[] {
    return this.CACHE_CLASSES === 'default' ? DEFAULT_CACHE_POLICIES : parseCachePolicies(this.CACHE_CLASSES);
  }
}
