import { INFERENCE_CONTRACT, inference, tokenDeltaCount } from '@troupe/contracts';
import { GrpcCallError, GrpcClient, GrpcStatus } from '@troupe/grpc';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyDecoder } from '../scripts/models';
import { ServiceStack } from './support/service-stack';

jest.setTimeout(180_000);

/** The model directory is live: models come, change, break and go while the service runs. */
describe('inference model registry (watched directory, admin RPCs)', () => {
  const modelsDir = mkdtempSync(join(tmpdir(), 'troupe-models-'));
  const built = buildTinyDecoder(mkdtempSync(join(tmpdir(), 'troupe-models-src-'))).dir;
  let stack: ServiceStack;
  let grpc: GrpcClient;

  /** A copy of the tiny decoder in `folder`, served under `name`. */
  const addModel = (folder: string, name: string, version = '1') => {
    const staging = join(modelsDir, `.staging-${folder}`);
    rmSync(staging, { recursive: true, force: true });
    cpSync(built, staging, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(staging, 'manifest.json'), 'utf8'));
    writeFileSync(join(staging, 'manifest.json'), JSON.stringify({ ...manifest, name, version }));
    rmSync(join(modelsDir, folder), { recursive: true, force: true });
    cpSync(staging, join(modelsDir, folder), { recursive: true });
    rmSync(staging, { recursive: true, force: true });
  };
  const list = async () => (await grpc.unary<inference.ListModelsRequest, inference.ListModelsResponse>('listModels', {})).models;
  const model = async (name: string) => (await list()).find((m) => m.name === name || m.folder === name);
  const waitFor = async <T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 20_000): Promise<T> => {
    const until = Date.now() + timeoutMs;
    for (;;) {
      const v = await probe();
      if (v) return v;
      if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const generate = async (modelName: string, maxNewTokens = 8) => {
    const req: inference.GenerateRequest = {
      requestId: '',
      model: modelName,
      messages: [{ role: 'user', name: '', content: 'Hello there.' }],
      params: { maxNewTokens, temperature: 0.7, topK: 0, topP: 0, seed: 3, repetitionPenalty: 0, stop: [] },
      priority: '',
      timeoutMs: 0,
      streamIntervalMs: 0,
    };
    let tokens = 0;
    let done: inference.GenerateDone | undefined;
    for await (const c of grpc.serverStream<inference.GenerateRequest, inference.GenerateResponse>('generate', req)) {
      if (c.token) tokens += tokenDeltaCount(c.token);
      if (c.done) done = c.done;
    }
    return { tokens, done };
  };
  const admin = (method: 'loadModel' | 'reloadModel' | 'unloadModel', name: string) =>
    grpc.unary<{ name: string }, { model: inference.ModelInfo }>(method, { name }).then((r) => r.model);
  const rssBytes = async () => {
    const text = await (await fetch(`${stack.httpUrl('inference')}/metrics`)).text();
    return Number(text.split('\n').find((l) => l.startsWith('process_resident_memory_bytes'))?.split(' ').pop());
  };

  beforeAll(async () => {
    addModel('tiny-decoder', 'tiny-decoder');
    stack = await ServiceStack.start({
      services: ['inference'],
      modelsDir,
      env: { inference: { MODELS_WATCH_INTERVAL_MS: '150', INFERENCE_EXECUTION_PROVIDERS: 'cuda,cpu' } },
    });
    grpc = new GrpcClient(INFERENCE_CONTRACT, stack.grpcAddress('inference'), 30_000);
  });

  afterAll(async () => {
    grpc?.close();
    await stack?.stop();
    rmSync(modelsDir, { recursive: true, force: true });
  });

  it('falls back to CPU when the requested execution provider cannot load, and says so', async () => {
    const m = await model('tiny-decoder');
    expect(m).toMatchObject({ status: 'ready', executionProvider: 'cpu', instances: 1, folder: 'tiny-decoder' });
    expect(m?.executionProviderFallback).toMatch(/cuda unavailable/);
  });

  it('serves a model dropped into the directory, and stops serving it when removed', async () => {
    addModel('second', 'second-decoder');
    await waitFor('second-decoder ready', async () => (await model('second-decoder'))?.status === 'ready');
    expect((await generate('second-decoder')).done?.finishReason).toBe('length');
    rmSync(join(modelsDir, 'second'), { recursive: true, force: true });
    await waitFor('second-decoder gone', async () => !(await model('second-decoder')));
    const gone = await generate('second-decoder').catch((e: GrpcCallError) => e);
    expect(gone).toBeInstanceOf(GrpcCallError);
    expect((gone as GrpcCallError).code).toBe(GrpcStatus.NOT_FOUND);
  });

  it('reports a broken model (ListModels, /health/models) while the others keep serving', async () => {
    mkdirSync(join(modelsDir, 'broken'));
    cpSync(join(built, 'tokenizer.json'), join(modelsDir, 'broken', 'tokenizer.json'));
    writeFileSync(join(modelsDir, 'broken', 'model.onnx'), 'not an onnx file');
    writeFileSync(join(modelsDir, 'broken', 'manifest.json'), readFileSync(join(built, 'manifest.json')));
    const broken = await waitFor('broken reported', async () => {
      const m = await model('broken');
      return m?.status === 'failed' && m;
    });
    expect(broken.error).toMatch(/onnxruntime cannot load/);
    const health = (await (await fetch(`${stack.httpUrl('inference')}/health/models`)).json()) as { models: inference.ModelInfo[] };
    expect(health.models.find((m) => m.folder === 'broken')).toMatchObject({ status: 'failed', error: expect.stringMatching(/model\.onnx/) });
    expect((await fetch(`${stack.httpUrl('inference')}/health`)).status).toBe(200);
    expect((await generate('tiny-decoder')).done?.finishReason).toBe('length');
    rmSync(join(modelsDir, 'broken'), { recursive: true, force: true });
  });

  it('finishes an in-flight request on the version it started on while a new version takes over', async () => {
    addModel('versioned', 'versioned', '1');
    await waitFor('versioned v1', async () => (await model('versioned'))?.version === '1');
    const longRun = generate('versioned', 200);
    await new Promise((r) => setTimeout(r, 30));
    addModel('versioned', 'versioned', '2');
    const reloaded = await admin('reloadModel', 'versioned');
    expect(reloaded).toMatchObject({ status: 'ready', version: '2' });
    const { tokens, done } = await longRun;
    expect(done?.finishReason).toBe('length');
    expect(tokens).toBe(200);
    expect((await generate('versioned')).done?.finishReason).toBe('length');
  });

  it('unloads and loads a model explicitly, naming unknown ones NOT_FOUND', async () => {
    expect(await admin('unloadModel', 'versioned')).toMatchObject({ status: 'unloaded', instances: 0 });
    const refused = await generate('versioned').catch((e: GrpcCallError) => e);
    expect((refused as GrpcCallError).code).toBe(GrpcStatus.NOT_FOUND);
    // The watcher leaves an explicitly unloaded model alone.
    await new Promise((r) => setTimeout(r, 500));
    expect((await model('versioned'))?.status).toBe('unloaded');
    expect(await admin('loadModel', 'versioned')).toMatchObject({ status: 'ready', instances: 1 });
    expect((await generate('versioned')).done?.finishReason).toBe('length');
    const unknown = await admin('loadModel', 'no-such-model').catch((e: GrpcCallError) => e);
    expect((unknown as GrpcCallError).code).toBe(GrpcStatus.NOT_FOUND);
    const traversal = await admin('loadModel', '../etc').catch((e: GrpcCallError) => e);
    expect((traversal as GrpcCallError).code).toBe(GrpcStatus.NOT_FOUND);
  });

  it('does not grow memory without bound over many reloads', async () => {
    const reloads = async (n: number) => {
      for (let i = 0; i < n; i++) {
        expect((await admin('reloadModel', 'versioned')).status).toBe('ready');
        await generate('versioned', 4);
      }
    };
    await reloads(10);
    const after10 = await rssBytes();
    await reloads(30);
    const after40 = await rssBytes();
    // A leaked worker (V8 isolate + onnxruntime session) costs tens of MB: 30 would be ~1 GB.
    expect(after40 - after10).toBeLessThan(120 * 1024 * 1024);
  });
});
