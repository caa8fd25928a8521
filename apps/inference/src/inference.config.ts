import { IsInt, IsString, Max, Min, MinLength } from 'class-validator';
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
  DEFAULT_MODEL = 'tiny-decoder';

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
}
