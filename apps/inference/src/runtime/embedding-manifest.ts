import { ManifestError, isObj, manifestFields, readManifestJson } from './manifest-fields';

/** Triton-style dynamic batching settings of an embedding model. */
export interface DynamicBatchingConfig {
  maxBatchSize: number;
  /** How long the first waiting request may wait for companions. */
  maxQueueDelayMs: number;
  /** Batch sizes dispatched at once when that many are waiting (largest first). */
  preferredBatchSizes: number[];
  /** Requests waiting beyond this are refused (RESOURCE_EXHAUSTED). */
  maxQueueSize: number;
}

/** manifest.json of an `embedding` model: text -> one normalised vector (pooling in the graph). */
export interface EmbeddingManifest {
  name: string;
  version: string;
  kind: 'embedding';
  files: { model: string; tokenizer: string };
  /** Tokens per text at most (longer texts are cut). */
  contextLength: number;
  dimensions: number;
  inputNames: string[];
  /** The one output: [batch, dimensions]. */
  outputName: string;
  threads: number;
  batching: DynamicBatchingConfig;
}

const fail = (field: string, problem: string) => new ManifestError('embedding', field, problem);
const { str, posInt, strList, relFile } = manifestFields(fail);

export function parseEmbeddingManifest(json: unknown): EmbeddingManifest {
  if (!isObj(json)) throw fail('(root)', 'must be a JSON object');
  if (json.kind !== 'embedding') throw fail('kind', `must be "embedding", got ${JSON.stringify(json.kind)}`);
  if (!isObj(json.files)) throw fail('files', 'must be an object with "model" and "tokenizer"');
  const inputNames = strList(json, 'inputNames');
  for (const required of ['input_ids', 'attention_mask']) if (!inputNames.includes(required)) throw fail('inputNames', `must include "${required}"`);
  const b = json.batching ?? {};
  if (!isObj(b)) throw fail('batching', 'must be an object');
  const maxBatchSize = posInt(b, 'maxBatchSize', 32);
  const delay = b.maxQueueDelayMs ?? 2;
  if (typeof delay !== 'number' || !(delay >= 0)) throw fail('batching.maxQueueDelayMs', 'must be a number >= 0');
  const preferred = b.preferredBatchSizes ?? [];
  if (!Array.isArray(preferred) || !preferred.every((n) => Number.isInteger(n) && n > 0 && n <= maxBatchSize)) {
    throw fail('batching.preferredBatchSizes', `must be integers in [1, maxBatchSize=${maxBatchSize}]`);
  }
  return {
    name: str(json, 'name'),
    version: typeof json.version === 'number' ? String(json.version) : str(json, 'version'),
    kind: 'embedding',
    files: { model: relFile(json.files, 'model'), tokenizer: relFile(json.files, 'tokenizer') },
    contextLength: posInt(json, 'contextLength'),
    dimensions: posInt(json, 'dimensions'),
    inputNames,
    outputName: str(json, 'outputName'),
    threads: posInt(json, 'threads', 1),
    batching: { maxBatchSize, maxQueueDelayMs: delay, preferredBatchSizes: [...(preferred as number[])].sort((x, y) => y - x), maxQueueSize: posInt(b, 'maxQueueSize', 1024) },
  };
}

export function loadEmbeddingManifest(modelDir: string): EmbeddingManifest {
  const { file, json } = readManifestJson(modelDir);
  try {
    return parseEmbeddingManifest(json);
  } catch (err) {
    if (err instanceof ManifestError) err.message = `${file}: ${err.message}`;
    throw err;
  }
}
