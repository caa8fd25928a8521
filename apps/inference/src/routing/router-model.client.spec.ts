import { status } from '@grpc/grpc-js';
import { UpstreamError } from '../remote/upstream-error';
import type { GenerationEvent, GenerateRequest } from '../runtime/generation.types';
import type { TextModel } from '../runtime/text-model';
import { RouterModelClient } from './router-model.client';
import { parseRouterManifest } from './router-manifest';

type Script = 'ok' | 'fail' | 'token-then-fail' | 'rejected' | 'rate-limited';

/** A text model that answers from a script, one entry per call (the last one repeats). */
function fakeModel(name: string, script: Script[]) {
  const calls: GenerateRequest[] = [];
  const model: TextModel = {
    manifest: { name, version: '1', kind: 'paced', contextLength: 100 },
    executionProvider: { requested: [], active: 'none' },
    openStreams: 0,
    onStats: () => () => undefined,
    submit(req, sink) {
      calls.push(req);
      const step = script[Math.min(calls.length - 1, script.length - 1)];
      setImmediate(() => {
        if (step === 'fail') return sink.fail(new UpstreamError(status.UNAVAILABLE, 'upstream HTTP 503: busy'));
        if (step === 'rate-limited') return sink.fail(new UpstreamError(status.RESOURCE_EXHAUSTED, 'upstream HTTP 429: slow down (retry after 10s)', 10_000));
        if (step === 'rejected') return sink.push({ type: 'done', finishReason: 'rejected', promptTokens: 0, completionTokens: 0, error: 'queue full' });
        sink.push({ type: 'token', tokenIds: [0], text: `${name}!`, index: 0 });
        if (step === 'token-then-fail') return sink.fail(new UpstreamError(status.UNAVAILABLE, 'upstream stream ended before [DONE]'));
        sink.push({ type: 'done', finishReason: 'stop', promptTokens: 1, completionTokens: 1 });
      });
      return () => undefined;
    },
    drainAndClose: async () => undefined,
    close: async () => undefined,
  };
  return { model, calls };
}

const request: GenerateRequest = {
  requestId: 'r',
  promptTokenIds: [],
  stopTokenIds: [],
  maxNewTokens: 4,
  temperature: 0,
  topK: 0,
  topP: 1,
  messages: [{ role: 'user', content: 'hi' }],
};

function run(router: RouterModelClient, req: GenerateRequest = request): Promise<{ events: GenerationEvent[]; error?: UpstreamError }> {
  return new Promise((resolve) => {
    const events: GenerationEvent[] = [];
    router.submit(req, {
      push: (e) => {
        events.push(e);
        if (e.type === 'done') resolve({ events });
      },
      fail: (err) => resolve({ events, error: err as UpstreamError }),
    });
  });
}

const manifest = (extra: object) =>
  parseRouterManifest({ name: 'r', kind: 'router', retry: { maxAttempts: 3, baseDelayMs: 0, maxDelayMs: 0 }, breaker: { windowSize: 4, minRequests: 2, failureRate: 0.5, openMs: 60_000 }, ...extra });

describe('RouterModelClient', () => {
  it('retries a failure that came before any token on the next target', async () => {
    const a = fakeModel('a', ['fail']);
    const b = fakeModel('b', ['ok']);
    const models: Record<string, TextModel> = { a: a.model, b: b.model };
    const router = new RouterModelClient(manifest({ primary: 'a', fallbacks: ['b'] }), (n) => models[n]);
    const { events, error } = await run(router);
    expect(error).toBeUndefined();
    expect(events.map((e) => (e.type === 'token' ? e.text : e.finishReason))).toEqual(['b!', 'stop']);
    expect([a.calls.length, b.calls.length]).toEqual([1, 1]);
    expect(b.calls[0].messages).toEqual(request.messages); // a model without a tokenizer gets the chat
  });

  it('treats a local model rejecting the request (queue full) as a failure to route around', async () => {
    const a = fakeModel('a', ['rejected']);
    const b = fakeModel('b', ['ok']);
    const models: Record<string, TextModel> = { a: a.model, b: b.model };
    const { events } = await run(new RouterModelClient(manifest({ primary: 'a', fallbacks: ['b'] }), (n) => models[n]));
    expect(events.at(-1)).toMatchObject({ type: 'done', finishReason: 'stop' });
  });

  it('never retries once a token reached the client', async () => {
    const a = fakeModel('a', ['token-then-fail']);
    const b = fakeModel('b', ['ok']);
    const models: Record<string, TextModel> = { a: a.model, b: b.model };
    const { events, error } = await run(new RouterModelClient(manifest({ primary: 'a', fallbacks: ['b'] }), (n) => models[n]));
    expect(events.map((e) => e.type)).toEqual(['token']);
    expect(error?.code).toBe(status.UNAVAILABLE);
    expect(error?.message).toMatch(/^a: upstream stream ended/);
    expect(b.calls).toHaveLength(0);
  });

  it('gives up after maxAttempts with the last failure', async () => {
    const a = fakeModel('a', ['fail']);
    const b = fakeModel('b', ['fail']);
    const models: Record<string, TextModel> = { a: a.model, b: b.model };
    const router = new RouterModelClient(manifest({ primary: 'a', fallbacks: ['b'], breaker: { minRequests: 10 } }), (n) => models[n]);
    const { error } = await run(router);
    expect(error?.code).toBe(status.UNAVAILABLE);
    expect([a.calls.length, b.calls.length]).toEqual([2, 1]); // a, b, a
  });

  it('does not wait for a Retry-After that ends past the request deadline', async () => {
    const a = fakeModel('a', ['rate-limited']);
    const b = fakeModel('b', ['ok']);
    const models: Record<string, TextModel> = { a: a.model, b: b.model };
    const router = new RouterModelClient(manifest({ primary: 'a', fallbacks: ['b'], retry: { maxAttempts: 3, maxDelayMs: 10_000 } }), (n) => models[n]);
    const { error } = await run(router, { ...request, deadlineAt: Date.now() + 5_000 });
    expect(error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(error?.retryAfterMs).toBe(10_000);
    expect(b.calls).toHaveLength(0);
  });

  it('skips a target whose breaker opened, until it half-opens', async () => {
    let now = 0;
    const a = fakeModel('a', ['fail', 'fail', 'ok']);
    const b = fakeModel('b', ['ok']);
    const models: Record<string, TextModel> = { a: a.model, b: b.model };
    const router = new RouterModelClient(manifest({ primary: 'a', fallbacks: ['b'] }), (n) => models[n], Math.random, () => now);
    await run(router);
    await run(router); // a fails twice of two: open
    expect(router.breakerStates()).toEqual({ a: 'open', b: 'closed' });
    await run(router);
    expect(a.calls).toHaveLength(2); // skipped
    now = 60_000;
    const { events } = await run(router); // the probe goes to a and succeeds
    expect(events[0]).toMatchObject({ text: 'a!' });
    expect(router.breakerStates().a).toBe('closed');
  });

  it('splits by weight and falls back to the other targets', async () => {
    const a = fakeModel('a', ['ok']);
    const b = fakeModel('b', ['ok']);
    const models: Record<string, TextModel> = { a: a.model, b: b.model };
    let r = 0;
    const router = new RouterModelClient(manifest({ split: [{ model: 'a', weight: 3 }, { model: 'b', weight: 1 }] }), (n) => models[n], () => r);
    for (const x of [0, 0.5, 0.74, 0.75, 0.99]) {
      r = x;
      await run(router);
    }
    expect([a.calls.length, b.calls.length]).toEqual([3, 2]);
  });

  it('reports a target that is not served as a failure and tries the next', async () => {
    const b = fakeModel('b', ['ok']);
    const router = new RouterModelClient(manifest({ primary: 'gone', fallbacks: ['b'] }), (n) => {
      if (n !== 'b') throw new Error(`model "${n}" is not served here`);
      return b.model;
    });
    const { events } = await run(router);
    expect(events.at(-1)).toMatchObject({ finishReason: 'stop' });
  });
});

describe('parseRouterManifest', () => {
  it('names the wrong field', () => {
    expect(() => parseRouterManifest({ name: 'r', kind: 'router' })).toThrow(/"primary" or "split" must be given/);
    expect(() => parseRouterManifest({ name: 'r', kind: 'router', split: [{ model: 'a', weight: 0 }] })).toThrow(/"split\[0\]\.weight"/);
    expect(() => parseRouterManifest({ name: 'r', kind: 'router', primary: 'a', fallbacks: ['a'] })).toThrow(/"fallbacks" must not name a model twice/);
    expect(() => parseRouterManifest({ name: 'r', kind: 'router', primary: 'r' })).toThrow(/itself/);
    expect(() => parseRouterManifest({ name: 'r', kind: 'router', primary: 'a', breaker: { failureRate: 2 } })).toThrow(/"breaker\.failureRate"/);
    expect(() => parseRouterManifest({ name: 'r', kind: 'router', primary: 'a', retry: { maxAttempts: 0 } })).toThrow(/"retry\.maxAttempts"/);
  });
});
