import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmbeddingManifest, parseEmbeddingManifest } from '../../apps/inference/src/runtime/embedding-manifest';
import { trainByteLevelBpe } from './bpe-trainer';
import { isCurrentBuild, sha256, writeModelDir } from './model-files';
import { buildTinyEmbedderOnnx } from './tiny-embedder.onnx';
import type { BuildResult } from './tiny-decoder.build';

export const TINY_EMBEDDER_NAME = 'tiny-embedder';
/** Bump whenever the builder's output bytes change. */
export const TINY_EMBEDDER_REVISION = 1;
const GENERATOR = 'troupe/scripts/build-models.ts#embedder';
const SEED = 0xe3b_2024;
const SHAPE = { hidden: 128, dimensions: 64, contextLength: 512 };

/** Writes models/tiny-embedder/{model.onnx, tokenizer.json, manifest.json}; same bytes every run. */
export function buildTinyEmbedder(outRoot: string, opts: { force?: boolean } = {}): BuildResult {
  const dir = join(outRoot, TINY_EMBEDDER_NAME);
  if (!opts.force && isCurrentBuild(dir, GENERATOR, TINY_EMBEDDER_REVISION)) return { dir, skipped: true };
  const corpus = readFileSync(join(__dirname, 'corpus.txt'), 'utf8').replace(/\r\n/g, '\n');
  const tokJson = trainByteLevelBpe(corpus, { numMerges: 512 - 256 - 1, specialTokens: ['<|endoftext|>'] });
  const tokenizerText = JSON.stringify(tokJson, null, 1) + '\n';
  const model = buildTinyEmbedderOnnx({ vocabSize: 512, hidden: SHAPE.hidden, dimensions: SHAPE.dimensions, seed: SEED });
  const manifest: EmbeddingManifest & { sha256: Record<string, string>; generator: Record<string, unknown> } = {
    name: TINY_EMBEDDER_NAME,
    version: String(TINY_EMBEDDER_REVISION),
    kind: 'embedding',
    files: { model: 'model.onnx', tokenizer: 'tokenizer.json' },
    contextLength: SHAPE.contextLength,
    dimensions: SHAPE.dimensions,
    inputNames: ['input_ids', 'attention_mask'],
    outputName: 'embeddings',
    threads: 1,
    batching: { maxBatchSize: 64, maxQueueDelayMs: 2, preferredBatchSizes: [16, 32, 64], maxQueueSize: 4096 },
    sha256: { model: sha256(model), tokenizer: sha256(tokenizerText) },
    generator: { name: GENERATOR, revision: TINY_EMBEDDER_REVISION, seed: SEED },
  };
  parseEmbeddingManifest(manifest); // never ship a manifest the runtime would reject
  writeModelDir(dir, model, tokenizerText, manifest);
  return { dir, skipped: false };
}
