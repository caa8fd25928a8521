import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import { CausalLmManifest, parseCausalLmManifest, standardCausalLmIoNames } from '../../apps/inference/src/runtime/causal-lm-manifest';
import { trainByteLevelBpe } from './bpe-trainer';
import { isCurrentBuild, sha256, writeModelDir } from './model-files';
import { buildTinyDecoderOnnx } from './tiny-decoder.onnx';

export const TINY_DECODER_NAME = 'tiny-decoder';
/** Bump whenever the builder's output bytes change, so existing builds are refreshed. */
export const TINY_DECODER_REVISION = 1;
const GENERATOR = 'troupe/scripts/build-models.ts';
const SEED = 0x7e0_2024;

export const CHAT_SPECIAL_TOKENS = {
  endOfText: '<|endoftext|>',
  system: '<|system|>',
  user: '<|user|>',
  assistant: '<|assistant|>',
  end: '<|end|>',
} as const;

const SHAPE = { contextLength: 256, numLayers: 2, numHeads: 4, headDim: 16, mlpHidden: 256 };
/** 256 byte tokens + merges + 5 special tokens = 512. */
const TARGET_VOCAB = 512;

export interface BuildResult {
  dir: string;
  skipped: boolean;
}

/** Writes models/tiny-decoder/{model.onnx, tokenizer.json, manifest.json}; same bytes every run. */
export function buildTinyDecoder(outRoot: string, opts: { force?: boolean } = {}): BuildResult {
  const dir = join(outRoot, TINY_DECODER_NAME);
  if (!opts.force && isCurrentBuild(dir, GENERATOR, TINY_DECODER_REVISION)) return { dir, skipped: true };

  const corpus = readFileSync(join(__dirname, 'corpus.txt'), 'utf8').replace(/\r\n/g, '\n');
  const specials = Object.values(CHAT_SPECIAL_TOKENS);
  const tokJson = trainByteLevelBpe(corpus, { numMerges: TARGET_VOCAB - 256 - specials.length, specialTokens: specials });
  const tokenizerText = JSON.stringify(tokJson, null, 1) + '\n';
  const vocabSize = ByteLevelBpeTokenizer.fromJSON(tokJson).vocabSize;

  const model = buildTinyDecoderOnnx({ ...SHAPE, vocabSize, seed: SEED });
  const manifest: CausalLmManifest = {
    name: TINY_DECODER_NAME,
    version: String(TINY_DECODER_REVISION),
    kind: 'causal-lm',
    files: { model: 'model.onnx', tokenizer: 'tokenizer.json' },
    contextLength: SHAPE.contextLength,
    vocabSize,
    numLayers: SHAPE.numLayers,
    numHeads: SHAPE.numHeads,
    numKvHeads: SHAPE.numHeads,
    headDim: SHAPE.headDim,
    eosToken: CHAT_SPECIAL_TOKENS.end,
    specialTokens: { ...CHAT_SPECIAL_TOKENS },
    ...standardCausalLmIoNames(SHAPE.numLayers),
    kvDtype: 'float32',
    threads: 1,
    sha256: { model: sha256(model), tokenizer: sha256(tokenizerText) },
    generator: { name: GENERATOR, revision: TINY_DECODER_REVISION, seed: SEED },
  };
  parseCausalLmManifest(manifest); // never ship a manifest the runtime would reject

  writeModelDir(dir, model, tokenizerText, manifest);
  return { dir, skipped: false };
}
