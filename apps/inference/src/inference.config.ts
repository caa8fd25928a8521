import { IsBoolean, IsInt, IsString, Matches, Max, Min, MinLength } from 'class-validator';
import { BaseServiceConfig } from '@troupe/config';

export class InferenceConfig extends BaseServiceConfig {
  @IsInt()
  @Min(1)
  @Max(65535)
  INFERENCE_HTTP_PORT = 3003;

  @IsInt()
  @Min(1)
  @Max(65535)
  INFERENCE_GRPC_PORT = 50053;

  /** Folder with one sub-folder (manifest.json + files) per model; relative paths start at the working directory. */
  @IsString()
  @MinLength(1)
  MODELS_DIR = 'models';

  /** Model used when a request names none. */
  @IsString()
  @MinLength(1)
  DEFAULT_MODEL = 'troupe-chat';

  /** Embedding model used when an Embed request names none. */
  @IsString()
  @MinLength(1)
  DEFAULT_EMBEDDING_MODEL = 'tiny-embedder';

  /** onnxruntime intra-op threads per model worker (0 = the manifest's choice). */
  @IsInt()
  @Min(0)
  @Max(64)
  INFERENCE_THREADS = 0;

  /** Upper bound on max_new_tokens whatever a request asks. */
  @IsInt()
  @Min(1)
  @Max(32_768)
  MAX_NEW_TOKENS_LIMIT = 1024;

  /** Sequences decoded together in one run per model instance. */
  @IsInt()
  @Min(1)
  @Max(1024)
  INFERENCE_MAX_BATCH_SIZE = 64;

  /** KV-cache memory one model instance's running batch may use (bytes, padding included). */
  @IsInt()
  @Min(1024 * 1024)
  INFERENCE_KV_CACHE_BYTES = 256 * 1024 * 1024;

  /** Requests waiting per model instance beyond the running batch; more get RESOURCE_EXHAUSTED. */
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  INFERENCE_MAX_QUEUE = 1024;

  /** Prompt tokens prefilled between two decode steps (bounds the pause new requests cause). */
  @IsInt()
  @Min(1)
  INFERENCE_MAX_PREFILL_TOKENS = 2048;

  /** Deadline of a generation that sets none (neither timeout_ms nor a gRPC deadline). */
  @IsInt()
  @Min(1)
  INFERENCE_DEFAULT_TIMEOUT_MS = 300_000;

  /** How often the models directory is scanned for added/changed/removed models (0 = never). */
  @IsInt()
  @Min(0)
  MODELS_WATCH_INTERVAL_MS = 1000;

  /** Worker threads (each with its own session and batch) serving each model. */
  @IsInt()
  @Min(1)
  @Max(16)
  INFERENCE_INSTANCES = 1;

  /** onnxruntime execution providers in order of preference, comma-separated (e.g. "cuda,cpu"); CPU is the fallback. */
  @IsString()
  @Matches(/^[a-z0-9_]+(,[a-z0-9_]+)*$/)
  INFERENCE_EXECUTION_PROVIDERS = 'cpu';

  /** Consume the `inference-jobs` BullMQ queue (bulk generations). */
  @IsBoolean()
  INFERENCE_JOBS_ENABLED = true;

  /** Jobs in progress at once (they join the running batch at bulk priority). */
  @IsInt()
  @Min(1)
  @Max(1024)
  INFERENCE_JOBS_CONCURRENCY = 16;

  /**
   * Longest a decoded token waits to be streamed together with the request's next tokens (ms).
   * A request's first token and its end are sent at once. Fewer, larger stream messages leave
   * the CPU to decoding (vLLM's stream interval does the same); 0 sends every step's tokens.
   */
  @IsInt()
  @Min(0)
  @Max(1000)
  INFERENCE_STREAM_INTERVAL_MS = 50;

  /** Pause after each decode step (ms). Keep 0; end-to-end tests set it so replies last long enough to cancel. */
  @IsInt()
  @Min(0)
  @Max(1000)
  INFERENCE_STEP_DELAY_MS = 0;

  /**
   * Environment variables remote model manifests may take API keys from (`apiKeyEnv`),
   * comma-separated. Only these are read (once, at boot); a manifest naming another one fails to load.
   */
  @Matches(/^([A-Za-z_][A-Za-z0-9_]*(,[A-Za-z_][A-Za-z0-9_]*)*)?$/, { message: 'must be comma-separated environment variable names' })
  INFERENCE_SECRET_ENV_NAMES = '';
}

/**
 * The secrets INFERENCE_SECRET_ENV_NAMES allows, read from the environment once at boot, so
 * nothing else reads process.env. `get` throws naming the variable when it is not allowed or unset.
 */
export class InferenceSecrets {
  private constructor(
    private readonly allowed: ReadonlySet<string>,
    private readonly values: ReadonlyMap<string, string>,
  ) {}

  static fromEnvironment(config: InferenceConfig, env: NodeJS.ProcessEnv = process.env): InferenceSecrets {
    const names = config.INFERENCE_SECRET_ENV_NAMES.split(',').filter(Boolean);
    const values = new Map<string, string>();
    for (const name of names) {
      const value = env[name];
      if (value) values.set(name, value);
    }
    return new InferenceSecrets(new Set(names), values);
  }

  get(name: string): string {
    if (!this.allowed.has(name)) throw new Error(`"apiKeyEnv": ${name} is not listed in INFERENCE_SECRET_ENV_NAMES`);
    const value = this.values.get(name);
    if (value === undefined) throw new Error(`"apiKeyEnv": environment variable ${name} is not set`);
    return value;
  }
}
