import { ManifestError, isObj, manifestFields, readManifestJson } from './manifest-fields';

export { MANIFEST_FILE } from './manifest-fields';

/**
 * manifest.json of a causal-LM model directory: what the runtime needs to know that the ONNX
 * file does not say (context length, KV-cache shape, tokenizer, special tokens, threads).
 */
export interface CausalLmManifest {
  name: string;
  version: string;
  kind: 'causal-lm';
  /** Paths relative to the model directory. */
  files: { model: string; tokenizer: string };
  /** Max tokens (prompt + completion) the model attends over. */
  contextLength: number;
  /** Logits width; must cover every tokenizer id. */
  vocabSize: number;
  numLayers: number;
  /** Attention heads. */
  numHeads: number;
  /** Heads in the KV cache tensors (differs from numHeads for grouped-query attention). */
  numKvHeads: number;
  headDim: number;
  /** Token that ends an assistant turn; generation stops on it. */
  eosToken: string;
  /** Named special tokens, e.g. { system: "<|system|>", user: ..., assistant: ..., end: ... }. */
  specialTokens: Record<string, string>;
  /** ONNX graph input/output names (standard decoder-only export layout). */
  inputNames: string[];
  outputNames: string[];
  /** Element type of past_key_values / present tensors. */
  kvDtype: 'float32';
  /** Default onnxruntime intra-op threads. */
  threads: number;
  /** Optional integrity hashes (hex sha256) of the files, written by the model builder. */
  sha256?: { model?: string; tokenizer?: string };
  /** Who produced the directory (the builder uses this to decide whether to rebuild). */
  generator?: { name: string; revision: number; seed?: number };
}

export class CausalLmManifestError extends ManifestError {
  constructor(field: string, problem: string) {
    super('causal-lm', field, problem);
    this.name = 'CausalLmManifestError';
  }
}

const { str, posInt, strList, relFile } = manifestFields((field, problem) => new CausalLmManifestError(field, problem));

/** Validates parsed manifest JSON, filling defaults; throws CausalLmManifestError naming the field. */
export function parseCausalLmManifest(json: unknown): CausalLmManifest {
  if (!isObj(json)) throw new CausalLmManifestError('(root)', 'must be a JSON object');
  const kind = json.kind;
  if (kind !== 'causal-lm') throw new CausalLmManifestError('kind', `must be "causal-lm", got ${JSON.stringify(kind)}`);
  const name = str(json, 'name');
  const version = typeof json.version === 'number' ? String(json.version) : str(json, 'version');
  if (!isObj(json.files)) throw new CausalLmManifestError('files', 'must be an object with "model" and "tokenizer"');
  const files = { model: relFile(json.files, 'model'), tokenizer: relFile(json.files, 'tokenizer') };

  const contextLength = posInt(json, 'contextLength');
  const vocabSize = posInt(json, 'vocabSize');
  const numLayers = posInt(json, 'numLayers');
  const numHeads = posInt(json, 'numHeads');
  const numKvHeads = posInt(json, 'numKvHeads', numHeads);
  if (numHeads % numKvHeads !== 0) throw new CausalLmManifestError('numKvHeads', 'must divide numHeads');
  const headDim = posInt(json, 'headDim');
  const eosToken = str(json, 'eosToken');

  const st = json.specialTokens ?? {};
  if (!isObj(st)) throw new CausalLmManifestError('specialTokens', 'must be an object of token strings');
  const specialTokens: Record<string, string> = {};
  for (const key of Object.keys(st)) specialTokens[key] = str(st, key, `specialTokens.${key}`);

  const inputNames = strList(json, 'inputNames');
  const outputNames = strList(json, 'outputNames');
  for (const required of ['input_ids', 'attention_mask']) {
    if (!inputNames.includes(required)) throw new CausalLmManifestError('inputNames', `must include "${required}"`);
  }
  if (!outputNames.includes('logits')) throw new CausalLmManifestError('outputNames', 'must include "logits"');
  for (let i = 0; i < numLayers; i++) {
    for (const kv of ['key', 'value']) {
      if (!inputNames.includes(`past_key_values.${i}.${kv}`)) throw new CausalLmManifestError('inputNames', `must include "past_key_values.${i}.${kv}" (numLayers=${numLayers})`);
      if (!outputNames.includes(`present.${i}.${kv}`)) throw new CausalLmManifestError('outputNames', `must include "present.${i}.${kv}" (numLayers=${numLayers})`);
    }
  }

  const kvDtype = json.kvDtype ?? 'float32';
  if (kvDtype !== 'float32') throw new CausalLmManifestError('kvDtype', `must be "float32" (got ${JSON.stringify(kvDtype)})`);
  const threads = posInt(json, 'threads', 1);

  const manifest: CausalLmManifest = {
    name,
    version,
    kind,
    files,
    contextLength,
    vocabSize,
    numLayers,
    numHeads,
    numKvHeads,
    headDim,
    eosToken,
    specialTokens,
    inputNames,
    outputNames,
    kvDtype,
    threads,
  };
  if (json.sha256 !== undefined) {
    if (!isObj(json.sha256)) throw new CausalLmManifestError('sha256', 'must be an object');
    manifest.sha256 = {};
    for (const k of ['model', 'tokenizer'] as const) {
      const h = json.sha256[k];
      if (h === undefined) continue;
      if (typeof h !== 'string' || !/^[0-9a-f]{64}$/.test(h)) throw new CausalLmManifestError(`sha256.${k}`, 'must be a hex sha256');
      manifest.sha256[k] = h;
    }
  }
  if (json.generator !== undefined) {
    const g = json.generator;
    if (!isObj(g)) throw new CausalLmManifestError('generator', 'must be an object');
    const revision = g.revision;
    if (typeof revision !== 'number' || !Number.isInteger(revision)) throw new CausalLmManifestError('generator.revision', 'must be an integer');
    manifest.generator = { name: str(g, 'name', 'generator.name'), revision };
    if (typeof g.seed === 'number') manifest.generator.seed = g.seed;
  }
  return manifest;
}

/** Reads and validates `<modelDir>/manifest.json`, with the directory in every error message. */
export function loadCausalLmManifest(modelDir: string): CausalLmManifest {
  const { file, json } = readManifestJson(modelDir);
  try {
    return parseCausalLmManifest(json);
  } catch (err) {
    if (err instanceof CausalLmManifestError) err.message = `${file}: ${err.message}`;
    throw err;
  }
}

/** Standard decoder-only input/output names for a model with `numLayers` layers. */
export function standardCausalLmIoNames(numLayers: number, withPositionIds = true): { inputNames: string[]; outputNames: string[] } {
  const inputNames = ['input_ids', 'attention_mask', ...(withPositionIds ? ['position_ids'] : [])];
  const outputNames = ['logits'];
  for (let i = 0; i < numLayers; i++) {
    inputNames.push(`past_key_values.${i}.key`, `past_key_values.${i}.value`);
    outputNames.push(`present.${i}.key`, `present.${i}.value`);
  }
  return { inputNames, outputNames };
}
