import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import { CausalLmManifest, parseCausalLmManifest, standardCausalLmIoNames } from '../../apps/inference/src/runtime/causal-lm-manifest';
import { encodeChatPrompt } from '../../apps/inference/src/runtime/chat-template';
import { trainByteLevelBpe } from './bpe-trainer';
import { isCurrentBuild, sha256, writeModelDir } from './model-files';
import { CHAT_SPECIAL_TOKENS, type BuildResult } from './tiny-decoder.build';
import { buildTroupeChatOnnx } from './troupe-chat.onnx';

export const TROUPE_CHAT_NAME = 'troupe-chat';
/** Bump whenever the builder's output bytes change. */
export const TROUPE_CHAT_REVISION = 1;
const GENERATOR = 'troupe/scripts/build-models.ts#troupe-chat';
const VOCAB = 768;
/** Interpolation weights of the trigram, bigram and unigram estimates (and a floor). */
const WEIGHTS = { trigram: 0.9, bigram: 0.09, unigram: 0.01, floor: 1e-7 };
/** Largest logit boost one question token gives an associated answer token. */
const TOPIC_SCALE = 1;

/** The Q/A blocks of chat-corpus.txt as [question, answer] pairs. */
export function readChatCorpus(): [string, string][] {
  const text = readFileSync(join(__dirname, 'chat-corpus.txt'), 'utf8').replace(/\r\n/g, '\n');
  const pairs: [string, string][] = [];
  for (const block of text.split(/\n\s*\n/)) {
    const q = /^Q: (.*)$/m.exec(block)?.[1];
    const a = /^A: (.*)$/m.exec(block)?.[1];
    if (q && a) pairs.push([q.trim(), a.trim()]);
  }
  return pairs;
}

/**
 * Builds `troupe-chat`: an interpolated trigram model over BPE tokens whose "training" is
 * counting the exchanges of chat-corpus.txt, rendered with the runtime's chat template so it
 * learns to answer after `<|assistant|>` and to stop with `<|end|>`.
 */
export function buildTroupeChat(outRoot: string, opts: { force?: boolean } = {}): BuildResult {
  const dir = join(outRoot, TROUPE_CHAT_NAME);
  if (!opts.force && isCurrentBuild(dir, GENERATOR, TROUPE_CHAT_REVISION)) return { dir, skipped: true };

  const pairs = readChatCorpus();
  const specials = Object.values(CHAT_SPECIAL_TOKENS);
  const plain = pairs.map(([q, a]) => `${q}\n${a}\n`).join('\n');
  const tokJson = trainByteLevelBpe(plain, { numMerges: VOCAB - 256 - specials.length, specialTokens: specials });
  const tokenizerText = JSON.stringify(tokJson, null, 1) + '\n';
  const tok = ByteLevelBpeTokenizer.fromJSON(tokJson);
  const V = tok.vocabSize;
  const bos = tok.tokenToId(CHAT_SPECIAL_TOKENS.endOfText) as number;
  const end = tok.tokenToId(CHAT_SPECIAL_TOKENS.end) as number;

  // Count n-grams over each rendered exchange (prompt as the runtime renders it + answer + end).
  const uni = new Float64Array(V);
  const bi = new Map<number, Map<number, number>>();
  const tri = new Map<number, Map<number, number>>();
  const bump = (m: Map<number, Map<number, number>>, ctx: number, next: number) => {
    const row = m.get(ctx) ?? new Map<number, number>();
    row.set(next, (row.get(next) ?? 0) + 1);
    m.set(ctx, row);
  };
  for (const [q, a] of pairs) {
    const ids = [bos, ...encodeChatPrompt(tok, [{ role: 'user', content: q }]), ...tok.encode(a, { parseSpecialTokens: false }), end];
    for (let i = 1; i < ids.length; i++) {
      uni[ids[i]]++;
      bump(bi, ids[i - 1], ids[i]);
      if (i >= 2) bump(tri, ids[i - 2] * V + ids[i - 1], ids[i]);
    }
  }
  const uniTotal = uni.reduce((s, x) => s + x, 0);
  const bigram = new Float32Array(V * V);
  for (let cur = 0; cur < V; cur++) {
    const row = bi.get(cur);
    const total = row ? [...row.values()].reduce((s, x) => s + x, 0) : 0;
    for (let next = 0; next < V; next++) {
      const p2 = total > 0 ? (row?.get(next) ?? 0) / total : 0;
      bigram[cur * V + next] = WEIGHTS.bigram * p2 + (WEIGHTS.unigram * uni[next]) / uniTotal + WEIGHTS.floor;
    }
  }
  // Row 0 stays zeros for unseen contexts; seen contexts in sorted order (deterministic bytes).
  const contexts = [...tri.keys()].sort((x, y) => x - y);
  const contextRow = new Array<number>(V * V).fill(0);
  const trigram = new Float32Array((contexts.length + 1) * V);
  contexts.forEach((ctx, i) => {
    contextRow[ctx] = i + 1;
    const row = tri.get(ctx) as Map<number, number>;
    const total = [...row.values()].reduce((s, x) => s + x, 0);
    for (const [next, n] of row) trigram[(i + 1) * V + next] = (WEIGHTS.trigram * n) / total;
  });

  // Topic association: PMI of answer tokens given a token in the question, clipped to [0, 1]
  // and scaled, so question words nudge the answer without drowning the n-grams.
  const qa = new Map<number, Map<number, number>>();
  const answerCounts = new Float64Array(V);
  for (const [q, a] of pairs) {
    const answer = tok.encode(a, { parseSpecialTokens: false });
    for (const t of answer) answerCounts[t]++;
    for (const qt of new Set(tok.encode(q, { parseSpecialTokens: false }))) for (const t of answer) bump(qa, qt, t);
  }
  const answerTotal = answerCounts.reduce((x, y) => x + y, 0);
  const topic = new Float32Array(V * V);
  for (const [qt, row] of qa) {
    const total = [...row.values()].reduce((x, y) => x + y, 0);
    for (const [t, n] of row) {
      const pmi = Math.log(n / total / (answerCounts[t] / answerTotal));
      topic[qt * V + t] = TOPIC_SCALE * Math.min(1, Math.max(0, pmi / 3));
    }
  }

  const model = buildTroupeChatOnnx({ vocabSize: V, bigram, contextRow, trigram, bosId: bos, topic, assistantId: tok.tokenToId(CHAT_SPECIAL_TOKENS.assistant) as number });
  const manifest: CausalLmManifest = {
    name: TROUPE_CHAT_NAME,
    version: String(TROUPE_CHAT_REVISION),
    kind: 'causal-lm',
    files: { model: 'model.onnx', tokenizer: 'tokenizer.json' },
    contextLength: 1024,
    vocabSize: V,
    numLayers: 1,
    numHeads: 1,
    numKvHeads: 1,
    headDim: 1,
    eosToken: CHAT_SPECIAL_TOKENS.end,
    specialTokens: { ...CHAT_SPECIAL_TOKENS },
    ...standardCausalLmIoNames(1),
    kvDtype: 'float32',
    threads: 1,
    sha256: { model: sha256(model), tokenizer: sha256(tokenizerText) },
    generator: { name: GENERATOR, revision: TROUPE_CHAT_REVISION },
  };
  parseCausalLmManifest(manifest);
  writeModelDir(dir, model, tokenizerText, manifest);
  return { dir, skipped: false };
}
