import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyDecoder } from '../../../../scripts/models';
import { encodeChatPrompt } from './chat-template';
import { GenerationWorkerClient } from './generation-worker.client';
import type { GenerateRequest, GenerationEvent } from './generation.types';

async function collect(it: AsyncIterable<GenerationEvent>): Promise<GenerationEvent[]> {
  const out: GenerationEvent[] = [];
  for await (const e of it) out.push(e);
  return out;
}

describe('GenerationWorkerClient (worker thread, real onnxruntime)', () => {
  const root = mkdtempSync(join(tmpdir(), 'troupe-worker-'));
  const modelDir = buildTinyDecoder(root).dir;
  let client: GenerationWorkerClient;
  let prompt: number[];
  let n = 0;
  const req = (over: Partial<GenerateRequest> = {}): GenerateRequest => ({
    requestId: `r${n++}`,
    promptTokenIds: prompt,
    maxNewTokens: 12,
    temperature: 0,
    topK: 0,
    topP: 1,
    stopTokenIds: [],
    ...over,
  });

  beforeAll(async () => {
    client = await GenerationWorkerClient.start(modelDir, { intraOpThreads: 1 });
    prompt = encodeChatPrompt(client.tokenizer, [{ role: 'user', content: 'Tell me about the troupe.' }]);
  });
  afterAll(async () => {
    await client?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('exposes the manifest and a main-thread tokenizer', () => {
    expect(client.manifest.name).toBe('tiny-decoder');
    expect(client.tokenizer.vocabSize).toBe(client.manifest.vocabSize);
  });

  it('streams maxNewTokens token events, then done with correct counts', async () => {
    const events = await collect(client.generate(req({ maxNewTokens: 16 })));
    const tokens = events.filter((e) => e.type === 'token');
    expect(tokens).toHaveLength(16);
    tokens.forEach((e, i) => expect(e.index).toBe(i));
    expect(events[events.length - 1]).toEqual({
      type: 'done',
      finishReason: 'length',
      promptTokens: prompt.length,
      completionTokens: 16,
      queueMs: expect.any(Number),
      // Alone in the batch: it joined a batch of one, prefilled by itself.
      batch: { joinedSize: 1, prefillSize: 1, prefillMs: expect.any(Number) },
    });
    // Deltas are exactly the UTF-8-safe decode of the streamed ids (special tokens skipped).
    const ids = tokens.flatMap((e) => (e.type === 'token' ? e.tokenIds : []));
    const text = tokens.map((e) => (e.type === 'token' ? e.text : '')).join('');
    expect(client.tokenizer.decode(ids, { skipSpecialTokens: true }).startsWith(text)).toBe(true);
  });

  it('with a stream interval, sends the first token alone and later tokens together, the same ids and text', async () => {
    const coalescing = await GenerationWorkerClient.start(modelDir, { intraOpThreads: 1, streamIntervalMs: 5_000 });
    try {
      const events = await collect(coalescing.generate(req({ maxNewTokens: 16 })));
      const deltas = events.flatMap((e) => (e.type === 'token' ? [e] : []));
      expect(deltas[0]).toMatchObject({ index: 0, tokenIds: [expect.any(Number)] });
      // 15 more tokens decode in far less than the interval: the request's end sends them as one delta.
      expect(deltas.length).toBeLessThan(16);
      const starts = deltas.map((d) => d.index);
      expect(starts).toEqual(deltas.map((_, i) => deltas.slice(0, i).reduce((n, d) => n + d.tokenIds.length, 0)));
      const alone = (await collect(client.generate(req({ maxNewTokens: 16 })))).flatMap((e) => (e.type === 'token' ? [e] : []));
      expect(deltas.flatMap((d) => d.tokenIds)).toEqual(alone.flatMap((d) => d.tokenIds));
      expect(deltas.map((d) => d.text).join('')).toBe(alone.map((d) => d.text).join(''));
      expect(events[events.length - 1]).toMatchObject({ type: 'done', completionTokens: 16 });
    } finally {
      await coalescing.close();
    }
  });

  it('with a stream interval, sends an ended request at once while others keep streaming', async () => {
    // Steps slowed so the long request is still decoding, well within the interval, when the short one ends.
    const coalescing = await GenerationWorkerClient.start(modelDir, { intraOpThreads: 1, streamIntervalMs: 5_000, limits: { stepDelayMs: 10 } });
    try {
      const ended: string[] = [];
      const track = (name: string, events: AsyncIterable<GenerationEvent>) => collect(events).then((e) => (ended.push(name), e));
      const long = track('long', coalescing.generate(req({ maxNewTokens: 60 })));
      const short = track('short', coalescing.generate(req({ maxNewTokens: 3 })));
      const [shortEvents, longEvents] = await Promise.all([short, long]);
      expect(ended).toEqual(['short', 'long']);
      expect(shortEvents.flatMap((e) => (e.type === 'token' ? e.tokenIds : []))).toHaveLength(3);
      expect(shortEvents[shortEvents.length - 1]).toMatchObject({ type: 'done', completionTokens: 3 });
      expect(longEvents[longEvents.length - 1]).toMatchObject({ type: 'done', completionTokens: 60 });
    } finally {
      await coalescing.close();
    }
  });

  it('is deterministic: greedy always, sampling for a fixed seed', async () => {
    const ids = async (r: Partial<GenerateRequest>) =>
      (await collect(client.generate(req(r)))).flatMap((e) => (e.type === 'token' ? e.tokenIds : []));
    expect(await ids({})).toEqual(await ids({}));
    const sampled = { temperature: 1.2, topK: 50, topP: 0.95, seed: 1234 };
    expect(await ids(sampled)).toEqual(await ids(sampled));
    expect(await ids(sampled)).not.toEqual(await ids({ ...sampled, seed: 99 }));
  });

  it('stops on a stop token without streaming it', async () => {
    const greedy = (await collect(client.generate(req()))).flatMap((e) => (e.type === 'token' ? e.tokenIds : []));
    const stopAt = greedy[3];
    const events = await collect(client.generate(req({ stopTokenIds: [stopAt] })));
    const firstIdx = greedy.indexOf(stopAt);
    expect(events.filter((e) => e.type === 'token')).toHaveLength(firstIdx);
    expect(events[events.length - 1]).toMatchObject({ type: 'done', finishReason: 'stop', completionTokens: firstIdx + 1 });
  });

  it('cancels promptly when the signal aborts', async () => {
    const ac = new AbortController();
    const events: GenerationEvent[] = [];
    let abortedAt = 0;
    // Abort on the first token: the worker cannot have run ~230 more steps by then.
    for await (const e of client.generate(req({ maxNewTokens: 230 }), ac.signal)) {
      events.push(e);
      if (e.type === 'token' && e.index === 0) {
        ac.abort();
        abortedAt = Date.now();
      }
    }
    const done = events[events.length - 1];
    expect(done).toMatchObject({ type: 'done', finishReason: 'cancelled' });
    expect(Date.now() - abortedAt).toBeLessThan(500);
    expect(done.type === 'done' && done.completionTokens).toBeLessThan(230);
  });

  it('cancels in the worker when the consumer stops reading', async () => {
    const worker = (client as unknown as { worker: { postMessage(m: unknown): void } }).worker;
    const post = jest.spyOn(worker, 'postMessage');
    for await (const e of client.generate(req({ requestId: 'early', maxNewTokens: 200 }))) {
      if (e.type === 'token') break;
    }
    // Messages to the worker go out once per turn of the event loop.
    await new Promise((r) => setImmediate(r));
    expect(post).toHaveBeenCalledWith({ type: 'cancel', key: expect.any(Number) });
    post.mockRestore();
    // Reusing the id right away never mixes in the old request's remaining events.
    const events = await collect(client.generate(req({ requestId: 'early', maxNewTokens: 3 })));
    expect(events).toHaveLength(4);
  });

  it('interleaves concurrent generations and all complete', async () => {
    const order: string[] = [];
    const run = async (id: string, max: number) => {
      const evs: GenerationEvent[] = [];
      for await (const e of client.generate(req({ requestId: id, maxNewTokens: max, temperature: 0.8, seed: 5 }))) {
        order.push(id);
        evs.push(e);
      }
      return evs;
    };
    const [a, b, c] = await Promise.all([run('a', 20), run('b', 20), run('c', 5)]);
    for (const [evs, max] of [[a, 20], [b, 20], [c, 5]] as const) {
      expect(evs.filter((e) => e.type === 'token')).toHaveLength(max);
      expect(evs[evs.length - 1]).toMatchObject({ type: 'done', finishReason: 'length', completionTokens: max });
    }
    // Continuous batching: c (short) leaves the batch long before a and b finish.
    expect(order.lastIndexOf('c')).toBeLessThan(order.lastIndexOf('a'));
    // Interleaved: b streamed before a finished (on a loaded machine the three may join the
    // batch a step or two apart, so the exact first events are not fixed).
    expect(order.indexOf('b')).toBeLessThan(order.lastIndexOf('a'));
  });

  it('left-truncates long prompts and reports it', async () => {
    const long = Array.from({ length: 300 }, (_, i) => (i * 7) % 500);
    const events = await collect(client.generate(req({ promptTokenIds: long, maxNewTokens: 6 })));
    expect(events[events.length - 1]).toEqual({
      type: 'done',
      finishReason: 'length',
      promptTokens: 250,
      completionTokens: 6,
      truncatedPromptTokens: 50,
      queueMs: expect.any(Number),
      batch: expect.objectContaining({ prefillSize: 1 }),
    });
  });

  it('turns bad requests into error done events', async () => {
    const events = await collect(client.generate(req({ promptTokenIds: [1, 99999] })));
    expect(events).toEqual([expect.objectContaining({ type: 'done', finishReason: 'error', error: expect.stringMatching(/promptTokenIds/) })]);
  });

  it('gives a clear error for a bad model directory', async () => {
    await expect(GenerationWorkerClient.start(join(root, 'missing'))).rejects.toThrow(/has no manifest\.json/);
    const broken = join(root, 'broken');
    cpSync(modelDir, broken, { recursive: true });
    writeFileSync(join(broken, 'model.onnx'), 'garbage');
    await expect(GenerationWorkerClient.start(broken)).rejects.toThrow(/broken: onnxruntime cannot load/);
  });

  it('drains: an open stream finishes on a retiring worker, then the worker closes', async () => {
    const retiring = await GenerationWorkerClient.start(modelDir);
    const it = retiring.generate(req({ maxNewTokens: 150 }))[Symbol.asyncIterator]();
    expect((await it.next()).value).toMatchObject({ type: 'token', index: 0 });
    let closed = false;
    const draining = retiring.drainAndClose().then(() => (closed = true));
    const rest: GenerationEvent[] = [];
    for (let r = await it.next(); !r.done; r = await it.next()) rest.push(r.value);
    expect(rest.filter((e) => e.type === 'token')).toHaveLength(149);
    expect(rest[rest.length - 1]).toMatchObject({ type: 'done', finishReason: 'length' });
    await draining;
    expect(closed).toBe(true);
    await expect(collect(retiring.generate(req()))).rejects.toThrow(/closed/);
  });

  it('rejects pending requests when the worker dies, without crashing the process', async () => {
    const other = await GenerationWorkerClient.start(modelDir);
    const it = other.generate(req({ maxNewTokens: 200 }))[Symbol.asyncIterator]();
    await it.next();
    (other as unknown as { worker: { postMessage(m: unknown): void } }).worker.postMessage({ type: 'crash' });
    await expect((async () => { for (;;) if ((await it.next()).done) return; })()).rejects.toThrow(/exited unexpectedly/);
    await expect(collect(other.generate(req()))).rejects.toThrow(/exited unexpectedly/);
    await other.close();
  });
});
