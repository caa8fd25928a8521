import { INFERENCE_CONTRACT, inference } from '@troupe/contracts';
import { GrpcCallError, GrpcClient, GrpcStatus } from '@troupe/grpc';
import { ServiceStack } from './support/service-stack';

jest.setTimeout(120_000);

const request = (over: Partial<inference.GenerateRequest> = {}, params: Partial<inference.GenerationParams> = {}): inference.GenerateRequest => ({
  requestId: '',
  model: 'tiny-decoder',
  messages: [{ role: 'user', name: 'ada', content: 'Tell me a story about the troupe.' }],
  params: { maxNewTokens: 24, temperature: 0, topK: 0, topP: 0, seed: 0, repetitionPenalty: 0, stop: [], ...params },
  priority: '',
  timeoutMs: 0,
  streamIntervalMs: 0,
  ...over,
});

/** The inference service alone, as a process, over real gRPC (batching, deadlines, bounds, metrics). */
describe('inference service over gRPC', () => {
  let stack: ServiceStack;
  let grpc: GrpcClient;

  const run = async (req: inference.GenerateRequest) => {
    const chunks: inference.GenerateResponse[] = [];
    for await (const c of grpc.serverStream<inference.GenerateRequest, inference.GenerateResponse>('generate', req)) chunks.push(c);
    return {
      tokens: chunks.flatMap((c) => c.token?.tokenIds ?? []),
      done: chunks.find((c) => c.done)?.done,
    };
  };
  const failure = (p: Promise<unknown>) => p.then(() => undefined, (e: unknown) => e as GrpcCallError);

  beforeAll(async () => {
    stack = await ServiceStack.start({
      services: ['inference'],
      env: { inference: { INFERENCE_MAX_BATCH_SIZE: '4', INFERENCE_MAX_QUEUE: '6' } },
    });
    grpc = new GrpcClient(INFERENCE_CONTRACT, stack.grpcAddress('inference'), 30_000);
  });

  afterAll(async () => {
    grpc?.close();
    await stack?.stop();
  });

  it('streams the same tokens for a seeded request alone and inside a crowd of concurrent streams', async () => {
    const sampled = request({}, { temperature: 0.9, topK: 40, seed: 77, maxNewTokens: 32 });
    const alone = await run(sampled);
    expect(alone.tokens).toHaveLength(32);
    const crowd = await Promise.all([
      run(sampled),
      ...Array.from({ length: 5 }, (_, i) => run(request({ messages: [{ role: 'user', name: '', content: `other ${i} `.repeat(i + 1) }] }, { seed: i + 1, temperature: 1, maxNewTokens: 20 + i * 5 }))),
    ]);
    expect(crowd[0].tokens).toEqual(alone.tokens);
    expect(crowd[0].done).toMatchObject({ finishReason: 'length', usage: { completionTokens: 32 } });
    // The crowd was decoded in shared batches (the metric counts runs by batch size).
    const metrics = await (await fetch(`${stack.httpUrl('inference')}/metrics`)).text();
    const sample = (prefix: string, label = '') =>
      Number(metrics.split('\n').find((l) => l.startsWith(prefix) && l.includes('model="tiny-decoder"') && l.includes(label))?.split(' ').pop());
    expect(sample('troupe_batch_size_count')).toBeGreaterThan(sample('troupe_batch_size_bucket', 'le="1"'));
  });

  it('ends a text stop sequence as finish "stop" without streaming the stop text', async () => {
    const free = await run(request());
    const text = free.done?.text ?? '';
    const stop = text.slice(5, 8);
    const cut = await run(request({}, { stop: [stop] }));
    expect(cut.done?.finishReason).toBe('stop');
    expect(cut.done?.text).toBe(text.slice(0, text.indexOf(stop)));
  });

  it('fails only the late request with DEADLINE_EXCEEDED and refuses past the queue bound with RESOURCE_EXHAUSTED', async () => {
    const late = failure(run(request({ timeoutMs: 1 }, { maxNewTokens: 200 })));
    expect((await late)?.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);

    // 4 run and 6 wait at most: of 16 sent at once some are refused (how many depends on how
    // fast the first ones finish), and every accepted one completes.
    const outcomes = await Promise.all(
      Array.from({ length: 16 }, () => run(request({ priority: 'bulk' }, { maxNewTokens: 220 })).then((r) => r.done?.finishReason, (e: GrpcCallError) => e.code)),
    );
    const refused = outcomes.filter((o) => o === GrpcStatus.RESOURCE_EXHAUSTED).length;
    expect(refused).toBeGreaterThan(0);
    expect(outcomes.filter((o) => o === 'length')).toHaveLength(16 - refused);
    expect(16 - refused).toBeGreaterThanOrEqual(10);
  });

  it('rejects bad parameters naming the field', async () => {
    const bad = await failure(run(request({ priority: 'urgent' as never })));
    expect(bad?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(bad?.message).toMatch(/priority/);
    const badStop = await failure(run(request({}, { stop: [''] })));
    expect(badStop?.message).toMatch(/stop/);
  });

  it('embeds texts with the default embedding model, batching concurrent callers', async () => {
    const embed = (texts: string[], model = '') => grpc.unary<inference.EmbedRequest, inference.EmbedResponse>('embed', { model, texts });
    const one = await embed(['the lantern in the square', 'a lantern in the old square', 'numbers purple seven']);
    expect(one).toMatchObject({ model: 'tiny-embedder', dimensions: 64 });
    const [a, b, c] = one.embeddings.map((e) => e.values);
    const dot = (x: number[], y: number[]) => x.reduce((s, v, i) => s + v * y[i], 0);
    expect(dot(a, a)).toBeCloseTo(1, 4);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c));
    const many = await Promise.all(Array.from({ length: 20 }, (_, i) => embed([`memory ${i}`])));
    expect(many.every((r) => r.embeddings.length === 1 && r.embeddings[0].values.length === 64)).toBe(true);
    const wrongKind = await failure(embed(['x'], 'tiny-decoder'));
    expect(wrongKind?.code).toBe(GrpcStatus.NOT_FOUND);
    const empty = await failure(embed([]));
    expect(empty?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(empty?.message).toMatch(/texts/);
  });

  it('exports per-model serving metrics with vLLM-style names', async () => {
    const metrics = await (await fetch(`${stack.httpUrl('inference')}/metrics`)).text();
    for (const name of [
      'troupe_num_requests_running',
      'troupe_num_requests_waiting',
      'troupe_request_queue_time_seconds_bucket',
      'troupe_time_to_first_token_seconds_bucket',
      'troupe_inter_token_latency_seconds_bucket',
      'troupe_e2e_request_latency_seconds_bucket',
      'troupe_prompt_tokens_total',
      'troupe_generated_tokens_total',
      'troupe_kv_cache_usage_ratio',
    ]) {
      expect(metrics).toMatch(new RegExp(`${name}\\{[^}]*model="tiny-decoder"`));
    }
    expect(metrics).toMatch(/troupe_request_finished_total\{[^}]*finish_reason="deadline"/);
    expect(metrics).toMatch(/troupe_batch_size_count\{[^}]*model="tiny-embedder"/);
  });
});
