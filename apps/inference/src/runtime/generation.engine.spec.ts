/**
 * @jest-environment ./apps/inference/src/runtime/testing/onnxruntime.jest-env.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import { buildTinyDecoder } from '../../../../scripts/models';
import { CausalLmSession } from './causal-lm.session';
import { EngineLimits, GenerationEngine } from './generation.engine';
import type { DoneEvent, EngineStats, GenerateRequest, GenerationEvent } from './generation.types';

/** The engine in-process on the real tiny decoder, with a clock the test moves. */
describe('GenerationEngine (continuous batching, real onnxruntime)', () => {
  const root = mkdtempSync(join(tmpdir(), 'troupe-engine-'));
  const modelDir = buildTinyDecoder(root).dir;
  let session: CausalLmSession;
  let tokenizer: ByteLevelBpeTokenizer;

  beforeAll(async () => {
    session = await CausalLmSession.load(modelDir, { intraOpThreads: 1 });
    tokenizer = ByteLevelBpeTokenizer.fromFile(join(modelDir, 'tokenizer.json'));
  });
  afterAll(async () => {
    await session?.release();
    rmSync(root, { recursive: true, force: true });
  });

  class Harness {
    readonly events = new Map<number, GenerationEvent[]>();
    readonly stats: EngineStats[] = [];
    private waiters = new Map<number, (d: DoneEvent) => void>();
    clock = 1_000;
    readonly engine: GenerationEngine;
    private nextKey = 1;

    constructor(limits: Partial<Omit<EngineLimits, 'kvBytesPerToken'>> = {}) {
      this.engine = new GenerationEngine(
        session,
        tokenizer,
        (key, e) => {
          this.events.get(key)?.push(e);
          if (e.type === 'done') this.waiters.get(key)?.(e);
        },
        limits,
        (s) => this.stats.push(s),
        () => this.clock,
      );
    }

    submit(over: Partial<GenerateRequest> = {}): { key: number; done: Promise<DoneEvent> } {
      const key = this.nextKey++;
      this.events.set(key, []);
      const done = new Promise<DoneEvent>((resolve) => this.waiters.set(key, resolve));
      this.engine.submit(key, { ...this.request(over), requestId: `r${key}` });
      return { key, done };
    }

    /** Requests handed to the engine together (as the worker does with a burst). */
    submitAll(overs: Partial<GenerateRequest>[]): { key: number; done: Promise<DoneEvent> }[] {
      const requests = overs.map((over) => ({ key: this.nextKey++, request: this.request(over) }));
      const handles = requests.map(({ key }) => {
        this.events.set(key, []);
        return { key, done: new Promise<DoneEvent>((resolve) => this.waiters.set(key, resolve)) };
      });
      this.engine.submitAll(requests);
      return handles;
    }

    private request(over: Partial<GenerateRequest>): GenerateRequest {
      return { requestId: `r${this.nextKey}`, promptTokenIds: [5, 6, 7, 8], maxNewTokens: 8, temperature: 0, topK: 0, topP: 1, stopTokenIds: [], ...over };
    }

    tokens(key: number): number[] {
      return (this.events.get(key) ?? []).flatMap((e) => (e.type === 'token' ? e.tokenIds : []));
    }

    text(key: number): string {
      return (this.events.get(key) ?? []).map((e) => (e.type === 'token' ? e.text : '')).join('');
    }
  }

  const sampled = { temperature: 0.9, topK: 40, topP: 0.95, seed: 4242, maxNewTokens: 24 };

  it('decodes concurrent sequences together in one batched run and all finish', async () => {
    const h = new Harness();
    const runs = [3, 9, 17].map((n) => h.submit({ maxNewTokens: n, promptTokenIds: Array.from({ length: n }, (_, i) => (i * 31) % 500) }));
    const done = await Promise.all(runs.map((r) => r.done));
    expect(done.map((d) => [d.finishReason, d.completionTokens])).toEqual([['length', 3], ['length', 9], ['length', 17]]);
    expect(Math.max(...h.stats.map((s) => s.batchSize))).toBe(3);
    // Three sequences of 17 tokens at most took about 17 decode runs, not 3 + 9 + 17.
    expect(h.stats[h.stats.length - 1].steps).toBeLessThan(20);
    expect(h.stats[h.stats.length - 1]).toMatchObject({ running: 0, waiting: 0, kvCacheBytes: 0 });
  });

  it('gives the same tokens for the same seed and input whatever the batch companions', async () => {
    const alone = new Harness();
    const a = alone.submit(sampled);
    await a.done;
    const greedyAlone = alone.submit({ maxNewTokens: 24, promptTokenIds: [40, 41, 42] });
    await greedyAlone.done;

    const crowd = new Harness();
    const others = [crowd.submit({ ...sampled, seed: 1, promptTokenIds: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11] })];
    others.push(crowd.submit({ maxNewTokens: 5, promptTokenIds: [99] }));
    const b = crowd.submit(sampled);
    const greedy = crowd.submit({ maxNewTokens: 24, promptTokenIds: [40, 41, 42] });
    others.push(crowd.submit({ ...sampled, seed: 7, maxNewTokens: 40 }));
    await Promise.all([b.done, greedy.done, ...others.map((o) => o.done)]);

    expect(crowd.tokens(b.key)).toHaveLength(24);
    expect(crowd.tokens(b.key)).toEqual(alone.tokens(a.key));
    expect(crowd.tokens(greedy.key)).toEqual(alone.tokens(greedyAlone.key));
    expect(Math.max(...crowd.stats.map((s) => s.batchSize))).toBeGreaterThanOrEqual(4);
  });

  it('frees a cancelled sequence within one step while the others continue', async () => {
    const h = new Harness();
    const long = h.submit({ maxNewTokens: 60 });
    const victim = h.submit({ maxNewTokens: 200 });
    const stepsAtCancel = await new Promise<number>((resolve) => {
      const poll = () => (h.tokens(victim.key).length >= 3 ? resolve(h.stats[h.stats.length - 1].steps) : setImmediate(poll));
      poll();
    });
    h.engine.cancel(victim.key);
    const d = await victim.done;
    expect(d.finishReason).toBe('cancelled');
    const stepsAtDone = h.stats[h.stats.length - 1].steps;
    expect(stepsAtDone - stepsAtCancel).toBeLessThanOrEqual(1);
    expect((await long.done).completionTokens).toBe(60);
  });

  it('admits interactive before bulk and bounds the batch size', async () => {
    const h = new Harness({ maxBatchSize: 1 });
    const first = h.submit({ maxNewTokens: 4 });
    const bulk = h.submit({ maxNewTokens: 4, priority: 'bulk' });
    const interactive = h.submit({ maxNewTokens: 4 });
    const order: number[] = [];
    await Promise.all([first, bulk, interactive].map((r) => r.done.then(() => order.push(r.key))));
    expect(order).toEqual([first.key, interactive.key, bulk.key]);
    expect(Math.max(...h.stats.map((s) => s.batchSize))).toBe(1);
  });

  it('fails only the request whose deadline passed, queued or running', async () => {
    const h = new Harness({ maxBatchSize: 1 });
    const running = h.submit({ maxNewTokens: 200, deadlineAt: 5_000 });
    const queued = h.submit({ maxNewTokens: 4, deadlineAt: 2_000 });
    const fine = h.submit({ maxNewTokens: 4 });
    await new Promise<void>((resolve) => {
      const poll = () => (h.tokens(running.key).length >= 2 ? resolve() : setImmediate(poll));
      poll();
    });
    h.clock = 2_000;
    expect(await queued.done).toMatchObject({ finishReason: 'deadline', completionTokens: 0 });
    h.clock = 5_000;
    const d = await running.done;
    expect(d.finishReason).toBe('deadline');
    expect(d.completionTokens).toBeGreaterThanOrEqual(2);
    expect(await fine.done).toMatchObject({ finishReason: 'length', completionTokens: 4 });
  });

  it('prefills a burst submitted together in one run, and one submitted apart in several', async () => {
    const together = new Harness();
    const burst = together.submitAll([1, 2, 3, 4].map((k) => ({ promptTokenIds: [5, 6, 7 + k], maxNewTokens: 3 })));
    for (const d of await Promise.all(burst.map((r) => r.done))) expect(d).toMatchObject({ finishReason: 'length', batch: { prefillSize: 4 } });

    const apart = new Harness();
    const first = apart.submit({ maxNewTokens: 3 });
    const rest = [apart.submit({ maxNewTokens: 3 }), apart.submit({ maxNewTokens: 3 })];
    // The first one starts at once, alone; the others join it at the next step.
    expect((await first.done).batch?.prefillSize).toBe(1);
    for (const d of await Promise.all(rest.map((r) => r.done))) expect(d.batch?.prefillSize).toBe(2);
  });

  it('rejects beyond the queue bound and beyond the KV budget, without touching the others', async () => {
    const h = new Harness({ maxBatchSize: 1, maxWaiting: 1, kvCacheBytes: session.kvBytesPerToken * 100 });
    const a = h.submit({ maxNewTokens: 10 });
    const b = h.submit({ maxNewTokens: 10 });
    const c = h.submit({ maxNewTokens: 10 });
    expect(await c.done).toMatchObject({ finishReason: 'rejected', error: expect.stringMatching(/queue full/) });
    const huge = h.submit({ maxNewTokens: 200 });
    expect(await huge.done).toMatchObject({ finishReason: 'rejected', error: expect.stringMatching(/KV/) });
    expect((await a.done).finishReason).toBe('length');
    expect((await b.done).finishReason).toBe('length');
  });

  it('keeps the padded batch KV cache within its budget', async () => {
    const perSeq = (4 + 30) * session.kvBytesPerToken;
    const h = new Harness({ kvCacheBytes: perSeq * 3 });
    const runs = Array.from({ length: 6 }, () => h.submit({ maxNewTokens: 30 }));
    await Promise.all(runs.map((r) => r.done));
    expect(Math.max(...h.stats.map((s) => s.running))).toBe(3);
    expect(Math.max(...h.stats.map((s) => s.kvCacheBytes))).toBeLessThanOrEqual(perSeq * 3);
  });

  it('stops on a stop string without streaming it, and applies the repetition penalty', async () => {
    const h = new Harness();
    const free = h.submit({ maxNewTokens: 30 });
    await free.done;
    const full = h.text(free.key);
    const stopAt = full.slice(6, 9);
    expect(stopAt.length).toBe(3);
    const cut = h.submit({ maxNewTokens: 30, stopSequences: [stopAt] });
    const d = await cut.done;
    expect(d.finishReason).toBe('stop');
    expect(h.text(cut.key)).toBe(full.slice(0, full.indexOf(stopAt)));

    const plain = new Set(h.tokens(free.key)).size;
    const penalised = h.submit({ maxNewTokens: 30, repetitionPenalty: 3 });
    await penalised.done;
    expect(new Set(h.tokens(penalised.key)).size).toBeGreaterThan(plain);
  });
});
