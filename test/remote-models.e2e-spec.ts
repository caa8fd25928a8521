import { INFERENCE_CONTRACT, inference } from '@troupe/contracts';
import { GrpcCallError, GrpcClient, GrpcStatus } from '@troupe/grpc';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './support/free-port';
import { generateRequest } from './support/generate-request';
import { OpenAiTestServer } from './support/openai-server';
import { REPO_ROOT, ServiceStack } from './support/service-stack';

jest.setTimeout(120_000);

/**
 * Remote OpenAI-compatible backends and routing, through the real inference service over gRPC
 * against a small OpenAI-compatible server (test/support/openai-server.ts) that fails on demand.
 */
describe('remote models and routing (inference over gRPC)', () => {
  const modelsDir = mkdtempSync(join(tmpdir(), 'troupe-remote-models-'));
  let upstream: OpenAiTestServer;
  /** The router's primary, on its own server so its failures do not touch the other tests. */
  let flaky: OpenAiTestServer;
  let stack: ServiceStack;
  let grpc: GrpcClient;

  const writeModel = (folder: string, manifest: object) => {
    mkdirSync(join(modelsDir, folder), { recursive: true });
    writeFileSync(join(modelsDir, folder, 'manifest.json'), JSON.stringify({ version: '1', ...manifest, name: folder }));
  };
  const remote = (server: OpenAiTestServer, extra: object = {}) => ({
    kind: 'openai-compatible',
    baseUrl: server.baseUrl,
    model: 'gpt-test',
    apiKeyEnv: 'TEST_UPSTREAM_KEY',
    timeouts: { connectMs: 1500, idleMs: 800 },
    ...extra,
  });

  const generate = async (model: string, content = 'Hello there.', maxNewTokens = 64) => {
    const req = generateRequest(
      model,
      [
        { role: 'system', name: '', content: 'You are terse.' },
        { role: 'user', name: 'Ada', content },
      ],
      maxNewTokens,
    );
    const tokens: string[] = [];
    let done: inference.GenerateDone | undefined;
    try {
      for await (const c of grpc.serverStream<inference.GenerateRequest, inference.GenerateResponse>('generate', req)) {
        if (c.token) tokens.push(c.token.text);
        if (c.done) done = c.done;
      }
      return { tokens, done, error: undefined };
    } catch (e) {
      if (!(e instanceof GrpcCallError)) throw e;
      return { tokens, done, error: e };
    }
  };

  beforeAll(async () => {
    upstream = await OpenAiTestServer.start({ apiKey: 'sk-test', models: ['gpt-test'] });
    flaky = await OpenAiTestServer.start({ apiKey: 'sk-test', models: ['gpt-test'], reply: 'Flaky but here.' });
    cpSync(join(REPO_ROOT, 'models', 'paced'), join(modelsDir, 'paced'), { recursive: true });
    writeModel('remote', remote(upstream));
    writeModel('remote-wrong-key', remote(upstream, { apiKeyEnv: 'TEST_UPSTREAM_WRONG_KEY' }));
    writeModel('remote-unknown-model', remote(upstream, { model: 'no-such-model' }));
    writeModel('remote-unlisted-key', remote(upstream, { apiKeyEnv: 'HOME' }));
    writeModel('remote-down', remote(upstream, { baseUrl: `http://127.0.0.1:${await freePort()}/v1` }));
    writeModel('flaky', remote(flaky));
    writeModel('router', {
      kind: 'router',
      primary: 'flaky',
      fallbacks: ['paced'],
      retry: { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 100 },
      breaker: { windowSize: 4, minRequests: 3, failureRate: 0.5, openMs: 1500 },
    });
    stack = await ServiceStack.start({
      services: ['inference'],
      modelsDir,
      env: {
        inference: {
          DEFAULT_MODEL: 'paced',
          INFERENCE_SECRET_ENV_NAMES: 'TEST_UPSTREAM_KEY,TEST_UPSTREAM_WRONG_KEY',
          TEST_UPSTREAM_KEY: 'sk-test',
          TEST_UPSTREAM_WRONG_KEY: 'sk-wrong-key',
        },
      },
    });
    grpc = new GrpcClient(INFERENCE_CONTRACT, stack.grpcAddress('inference'), 30_000);
  });

  afterAll(async () => {
    grpc?.close();
    await stack?.stop();
    await upstream?.close();
    await flaky?.close();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('streams a remote reply delta by delta with usage, sending the chat as OpenAI messages', async () => {
    const before = upstream.requests.length;
    const { tokens, done, error } = await generate('remote');
    expect(error).toBeUndefined();
    expect(tokens).toEqual(['Hello ', 'from ', 'upstream. ', 'How ', 'can ', 'I ', 'help?']);
    expect(done).toMatchObject({ finishReason: 'stop', text: 'Hello from upstream. How can I help?', model: 'remote' });
    expect(done?.usage?.completionTokens).toBe(7);
    expect(done?.usage?.promptTokens).toBeGreaterThan(0);
    const sent = upstream.requests.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0].authorization).toBe('Bearer sk-test');
    expect(sent[0].body).toMatchObject({
      model: 'gpt-test',
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: 64,
      messages: [
        { role: 'system', content: 'You are terse.' },
        { role: 'user', content: 'Ada: Hello there.' },
      ],
    });
  });

  it('ends with finish reason "length" when the upstream stops at max_tokens', async () => {
    const { done } = await generate('remote', 'Hello there.', 3);
    expect(done).toMatchObject({ finishReason: 'length', text: 'Hello from upstream. ' });
  });

  it('passes tool-call deltas through as the <tool_call> text the director parses', async () => {
    const { done, error } = await generate('remote', 'Please calculate 2 + 2.');
    expect(error).toBeUndefined();
    expect(done?.text).toBe('<tool_call>{"name":"calculator","arguments":{"expression":"2 + 2"}}</tool_call>');
  });

  it('maps upstream failures to gRPC statuses carrying the upstream message', async () => {
    const wrongKey = await generate('remote-wrong-key');
    expect(wrongKey.error?.code).toBe(GrpcStatus.UNAUTHENTICATED);
    expect(wrongKey.error?.details).toMatch(/^remote-wrong-key: upstream HTTP 401: Incorrect API key provided/);

    const unknown = await generate('remote-unknown-model');
    expect(unknown.error?.code).toBe(GrpcStatus.NOT_FOUND);
    expect(unknown.error?.details).toMatch(/The model `no-such-model` does not exist/);

    upstream.failNext({ kind: 'status', status: 429, message: 'Rate limit reached for requests', retryAfter: '7' });
    const limited = await generate('remote');
    expect(limited.error?.code).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect(limited.error?.details).toMatch(/upstream HTTP 429: Rate limit reached for requests \(retry after 7s\)/);

    upstream.failNext({ kind: 'status', status: 500, message: 'The server had an error while processing your request.' });
    const broken = await generate('remote');
    expect(broken.error?.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(broken.error?.details).toMatch(/upstream HTTP 500: The server had an error/);

    const down = await generate('remote-down');
    expect(down.error?.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(down.error?.details).toMatch(/upstream unreachable: fetch failed \(ECONNREFUSED\)/);
  });

  it('closes the upstream request when the client cancels the generation', async () => {
    upstream.failNext({ kind: 'stall', chunks: 1 });
    const aborted = upstream.abortedStreams;
    const req = generateRequest('remote', [{ role: 'user', name: '', content: 'Hello there.' }]);
    for await (const c of grpc.serverStream<inference.GenerateRequest, inference.GenerateResponse>('generate', req)) {
      if (c.token) break; // cancels the call after the first token
    }
    for (let i = 0; upstream.abortedStreams === aborted; i++) {
      if (i > 100) throw new Error('the upstream stream was never closed');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(upstream.abortedStreams).toBe(aborted + 1);
  });

  it('fails a stream cut before [DONE] with UNAVAILABLE after the tokens that did arrive', async () => {
    upstream.failNext({ kind: 'break', chunks: 2 });
    const { tokens, done, error } = await generate('remote');
    expect(tokens).toEqual(['Hello ', 'from ']);
    expect(done).toBeUndefined();
    expect(error?.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(error?.details).toMatch(/upstream stream (broke after 2 deltas|ended before \[DONE\])/);
  });

  it('fails a silent upstream with DEADLINE_EXCEEDED (no response, or a stalled stream)', async () => {
    upstream.failNext({ kind: 'hang' });
    const hung = await generate('remote');
    expect(hung.error?.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(hung.error?.details).toMatch(/upstream sent no response after 1500 ms/);

    upstream.failNext({ kind: 'stall', chunks: 1 });
    const stalled = await generate('remote');
    expect(stalled.tokens).toEqual(['Hello ']);
    expect(stalled.error?.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(stalled.error?.details).toMatch(/upstream stream stalled after 800 ms/);
  });

  it('refuses to load a remote model whose key variable is not allowed, naming it', async () => {
    const { models } = await grpc.unary<inference.ListModelsRequest, inference.ListModelsResponse>('listModels', {});
    const unlisted = models.find((m) => m.folder === 'remote-unlisted-key');
    expect(unlisted).toMatchObject({ status: 'failed' });
    expect(unlisted?.error).toMatch(/"apiKeyEnv": HOME is not listed in INFERENCE_SECRET_ENV_NAMES/);
    expect(models.find((m) => m.name === 'remote')).toMatchObject({ status: 'ready', kind: 'openai-compatible', executionProvider: 'remote' });
    expect(models.find((m) => m.name === 'router')).toMatchObject({ status: 'ready', kind: 'router' });
  });

  it('router: a failure before the first token is retried on the fallback, transparently', async () => {
    const before = flaky.requests.length;
    flaky.failNext({ kind: 'status', status: 503, message: 'Service temporarily overloaded' });
    const { tokens, done, error } = await generate('router', 'Hello there.', 12);
    expect(error).toBeUndefined();
    expect(flaky.requests.length - before).toBe(1);
    // Streamed in deltas (the paced model keeps the stream interval): counted by usage.
    expect(done?.usage?.completionTokens).toBe(12);
    expect(tokens.join('')).toBe(done?.text);
    expect(done).toMatchObject({ model: 'router', finishReason: 'length' });
    expect(done?.text).toMatch(/^The harbour lights/); // the paced fallback's reply
  });

  it('router: a failure after a token reached the client is never retried', async () => {
    const before = flaky.requests.length;
    flaky.failNext({ kind: 'break', chunks: 1 });
    const { tokens, error } = await generate('router');
    expect(tokens).toEqual(['Flaky ']);
    expect(error?.code).toBe(GrpcStatus.UNAVAILABLE);
    expect(error?.details).toMatch(/^router: flaky: /);
    expect(flaky.requests.length - before).toBe(1);
  });

  const routerInfo = async () =>
    (await grpc.unary<inference.ListModelsRequest, inference.ListModelsResponse>('listModels', {})).models.find((m) => m.name === 'router');

  it('router: the breaker opens on the failing primary, then half-opens and probes it back', async () => {
    flaky.failAlways({ kind: 'status', status: 502, message: 'Bad gateway' });
    const hits: number[] = [];
    for (let i = 0; i < 6; i++) {
      const before = flaky.requests.length;
      const { done, error } = await generate('router', 'Hello there.', 12);
      expect(error).toBeUndefined(); // every one answered by the fallback
      expect(done?.text).toMatch(/^The harbour lights/);
      hits.push(flaky.requests.length - before);
    }
    // Once open, the primary is skipped: the last requests never reach it.
    expect(hits.slice(-3)).toEqual([0, 0, 0]);
    expect(hits.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
    // Operators see it in the model listing.
    expect((await routerInfo())?.breakers).toMatchObject({ flaky: 'open' });

    flaky.failAlways(undefined);
    await new Promise((r) => setTimeout(r, 1600)); // openMs: the breaker half-opens
    expect((await routerInfo())?.breakers).toMatchObject({ flaky: 'half-open' });
    const { done } = await generate('router');
    expect(done?.text).toBe('Flaky but here.');
    expect((await routerInfo())?.breakers).toMatchObject({ flaky: 'closed' });
  });
});
