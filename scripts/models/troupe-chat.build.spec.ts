/**
 * @jest-environment ./apps/inference/src/runtime/testing/onnxruntime.jest-env.ts
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import { loadCausalLmManifest } from '../../apps/inference/src/runtime/causal-lm-manifest';
import { CausalLmSession } from '../../apps/inference/src/runtime/causal-lm.session';
import { encodeChatPrompt } from '../../apps/inference/src/runtime/chat-template';
import { GenerationEngine } from '../../apps/inference/src/runtime/generation.engine';
import type { DoneEvent, GenerateRequest } from '../../apps/inference/src/runtime/generation.types';
import { buildTroupeChat, readChatCorpus } from './index';

describe('troupe-chat (n-gram chat model in the decoder-only layout, real onnxruntime)', () => {
  const roots = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'troupe-chat-')));
  const dir = buildTroupeChat(roots[0]).dir;
  let session: CausalLmSession;
  let tokenizer: ByteLevelBpeTokenizer;

  beforeAll(async () => {
    session = await CausalLmSession.load(dir, { intraOpThreads: 1 });
    tokenizer = ByteLevelBpeTokenizer.fromFile(join(dir, 'tokenizer.json'));
  });
  afterAll(async () => {
    await session?.release();
    roots.forEach((d) => rmSync(d, { recursive: true, force: true }));
  });

  /** Runs requests through one engine concurrently; returns each reply's text and done event. */
  const run = async (questions: string[], over: Partial<GenerateRequest> = {}) => {
    const texts = questions.map(() => '');
    const dones: Promise<DoneEvent>[] = [];
    const resolvers = new Map<number, (d: DoneEvent) => void>();
    const engine = new GenerationEngine(session, tokenizer, (key, e) => {
      if (e.type === 'token') texts[key] += e.text;
      else resolvers.get(key)?.(e);
    });
    questions.forEach((q, key) => {
      dones.push(new Promise((r) => resolvers.set(key, r)));
      engine.submit(key, {
        requestId: `q${key}`,
        promptTokenIds: encodeChatPrompt(tokenizer, [{ role: 'user', name: 'ada', content: q }]),
        maxNewTokens: 80,
        temperature: 0.7,
        topK: 20,
        topP: 0.95,
        repetitionPenalty: 1.2,
        seed: 5,
        stopTokenIds: [tokenizer.tokenToId('<|end|>') as number],
        ...over,
      });
    });
    return { texts, dones: await Promise.all(dones) };
  };

  it('builds the same valid model every time', () => {
    const again = buildTroupeChat(roots[1]).dir;
    for (const f of ['model.onnx', 'tokenizer.json', 'manifest.json']) expect(readFileSync(join(dir, f)).equals(readFileSync(join(again, f)))).toBe(true);
    expect(loadCausalLmManifest(dir)).toMatchObject({ name: 'troupe-chat', numLayers: 1, headDim: 1, eosToken: '<|end|>' });
  });

  it('answers in words of its corpus and ends its turn by itself', async () => {
    const corpusWords = new Set(readChatCorpus().flatMap(([q, a]) => `${q} ${a}`.toLowerCase().match(/[a-z']+/g) ?? []));
    const questions = ['Hello, who are you?', 'What do you eat?', 'Tell me about the play.', 'Where are you going next?'];
    const { texts, dones } = await run(questions);
    expect(dones.filter((d) => d.finishReason === 'stop').length).toBeGreaterThanOrEqual(3);
    for (const text of texts) {
      const words = text.toLowerCase().match(/[a-z']+/g) ?? [];
      expect(words.length).toBeGreaterThan(2);
      expect(words.filter((w) => corpusWords.has(w)).length / words.length).toBeGreaterThan(0.9);
    }
  });

  it('gives the same reply alone and inside a padded batch (previous token taken from the cache)', async () => {
    const alone = await run(['What do you eat?']);
    const crowd = await run(['Hi there.', 'What do you eat?', 'Tell me a long story about the king and the letter, please.']);
    expect(crowd.texts[1]).toBe(alone.texts[0]);
  });
});
