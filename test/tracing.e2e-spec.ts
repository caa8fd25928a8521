import { INFERENCE_CONTRACT, inference } from '@troupe/contracts';
import { GrpcClient } from '@troupe/grpc';
import { GenerateJobPayload, GenerateJobResult, INFERENCE_JOBS_QUEUE, inferenceJobsPrefix } from '@troupe/inference-jobs';
import { ToolResultEvent } from '@troupe/domain';
import { Queue, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChatClient } from './support/chat-client';
import { generateRequest } from './support/generate-request';
import { OpenAiTestServer } from './support/openai-server';
import { CollectedSpan, OtlpCollector } from './support/otlp-collector';
import { TEST_REDIS_URL } from './support/redis-cleanup';
import { makeRolesDir, stagehandRole } from './support/roles-fixture';
import { ServiceProcess, testPrefix } from './support/service-process';
import { REPO_ROOT, SERVICES, ServiceStack } from './support/service-stack';
import { until } from './support/until';

jest.setTimeout(120_000);

const SPAN_KIND = { INTERNAL: 1, SERVER: 2, CLIENT: 3, PRODUCER: 4, CONSUMER: 5 };

/** Every span but one (the root) has its parent in the set: one connected tree. */
function expectOneConnectedTrace(spans: CollectedSpan[]): CollectedSpan {
  expect(new Set(spans.map((s) => s.traceId)).size).toBe(1);
  const ids = new Set(spans.map((s) => s.spanId));
  const roots = spans.filter((s) => s.parentSpanId === '');
  expect(roots.map((s) => s.name)).toHaveLength(1);
  const orphans = spans.filter((s) => s.parentSpanId !== '' && !ids.has(s.parentSpanId)).map((s) => `${s.service}:${s.name}`);
  expect(orphans).toEqual([]);
  return roots[0];
}

/**
 * OpenTelemetry across the four services: each exports over OTLP/HTTP (JSON) to a collector
 * in this test, and one chat turn — socket event, director, gRPC calls, tool call, queued
 * background run, the model's batch — comes back as one connected trace.
 */
describe('tracing one turn across the services', () => {
  let collector: OtlpCollector;
  let stack: ServiceStack;
  let roles: ReturnType<typeof makeRolesDir>;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    collector = await OtlpCollector.start();
    roles = makeRolesDir({
      'stagehand.json': stagehandRole(['calculator', 'delegate']),
    });
    // At debug, every successful gRPC call has its access-log line (the check of trace ids in logs reads them).
    const otel = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '100', LOG_LEVEL: 'debug' };
    stack = await ServiceStack.start({ rolesDir: roles.dir, env: Object.fromEntries(SERVICES.map((s) => [s, otel])) });
  });

  afterAll(async () => {
    clients.forEach((c) => c.close());
    await stack?.stop();
    await collector?.close();
    roles?.remove();
  });

  const connect = async (name: string) => {
    const client = await ChatClient.connect(stack.sessionUrl, name);
    clients.push(client);
    return client;
  };

  /** The trace of a turn, once the spans `ready` asks for have been exported. */
  async function traceOfTurn(turnId: string, ready: (spans: CollectedSpan[]) => boolean): Promise<CollectedSpan[]> {
    const turn = await until(
      async () => collector.spans.find((s) => s.name === 'director.turn' && s.attributes['troupe.turn.id'] === turnId),
      `the director.turn span of ${turnId}`,
    );
    await until(async () => (ready(collector.trace(turn.traceId)) ? true : undefined), `the spans of turn ${turnId}`);
    // Late spans of the same trace (a server span ending just after its client's) settle in one export interval.
    await new Promise((r) => setTimeout(r, 400));
    return collector.trace(turn.traceId);
  }

  it('gives a chat turn with a tool call one connected trace through session, role-context, tool-plugin and inference', async () => {
    const client = await connect('ada');
    const { sessionId } = await client.request('session.open', { roles: ['stagehand'], policy: { turnPolicy: 'single' } });
    const ack = await client.request('message.send', { sessionId, text: 'Please calculate six times seven.' });
    expect(ack.ok).toBe(true);
    expect((await client.turnEnd(ack.turnId)).reason).toBe('completed');

    const spans = await traceOfTurn(ack.turnId, (s) => ['session', 'role-context', 'tool-plugin', 'inference'].every((svc) => s.some((x) => x.service === svc)) && s.filter((x) => x.name === 'inference.generate').length === 2);
    const root = expectOneConnectedTrace(spans);
    expect(root).toMatchObject({ service: 'session', name: 'chat message.send', kind: SPAN_KIND.SERVER, attributes: { 'troupe.session.id': sessionId } });

    const byName = (name: string) => spans.filter((s) => s.name === name);
    const parentOf = (s: CollectedSpan) => spans.find((p) => p.spanId === s.parentSpanId);
    // Socket event -> director turn -> one role reply (two generations around the tool call).
    const [turn] = byName('director.turn');
    expect(parentOf(turn)).toBe(root);
    expect(turn.attributes).toMatchObject({ 'troupe.turn.id': ack.turnId, 'troupe.turn.stop_reason': 'completed' });
    const [reply] = byName('director.reply');
    expect(parentOf(reply)).toBe(turn);
    expect(reply.attributes).toMatchObject({ 'troupe.role.id': 'stagehand' });
    const [toolCall] = byName('director.tool_call');
    expect(parentOf(toolCall)).toBe(reply);

    // Each gRPC call: a client span in session, its server span in the callee, context carried in metadata.
    const invoke = spans.filter((s) => s.name === 'troupe.tool_plugin.v1.ToolPluginService/InvokeTool');
    expect(invoke.map((s) => [s.service, s.kind])).toEqual(expect.arrayContaining([['session', SPAN_KIND.CLIENT], ['tool-plugin', SPAN_KIND.SERVER]]));
    const invokeServer = invoke.find((s) => s.kind === SPAN_KIND.SERVER)!;
    expect(parentOf(invokeServer)).toMatchObject({ service: 'session', kind: SPAN_KIND.CLIENT });
    expect(parentOf(parentOf(invokeServer)!)).toBe(toolCall);

    const generateServers = spans.filter((s) => s.service === 'inference' && s.name === 'troupe.inference.v1.InferenceService/Generate');
    expect(generateServers).toHaveLength(2);
    for (const generation of byName('inference.generate')) {
      expect(generation.service).toBe('inference');
      expect(generateServers).toContain(parentOf(generation));
      expect(generation.attributes).toMatchObject({ 'gen_ai.request.model': 'paced', 'gen_ai.usage.output_tokens': expect.any(Number) });
      expect(generation.events).toEqual(['first_token']);
    }
    expect(spans.some((s) => s.service === 'role-context' && s.name === 'troupe.role_context.v1.RoleContextService/AssembleContext')).toBe(true);
    // No span per token: a reply of dozens of tokens stays a handful of spans.
    expect(spans.length).toBeLessThan(40);
    // Every span of the turn is in this trace and no other.
    const elsewhere = collector.spans.filter((s) => s.attributes['troupe.turn.id'] === ack.turnId && s.traceId !== root.traceId);
    expect(elsewhere).toEqual([]);
  });

  it('continues the trace through the agent-runs queue when a role delegates', async () => {
    const client = await connect('cy');
    const { sessionId } = await client.request('session.open', { roles: ['stagehand'], policy: { turnPolicy: 'single' } });
    const ack = await client.request('message.send', { sessionId, text: 'Please delegate this.' });
    const result = await client.waitFor<ToolResultEvent>('tool.result', (r) => r.tool === 'delegate');
    const runId = (result.result as { runId: string }).runId;
    await client.waitFor('agent.run', (e: { runId: string }) => e.runId === runId, 60_000);

    const spans = await traceOfTurn(ack.turnId, (s) => s.some((x) => x.name === 'agent-runs process' && x.endMs > 0) && s.filter((x) => x.name === 'director.turn').length === 2);
    expectOneConnectedTrace(spans);
    const job = spans.find((s) => s.name === 'agent-runs process')!;
    expect(job).toMatchObject({ service: 'session', kind: SPAN_KIND.CONSUMER, attributes: { 'messaging.system': 'bullmq', 'messaging.message.id': runId } });
    // The job's parent is in the turn that queued it (the delegate tool call).
    const chain: string[] = [];
    for (let s: CollectedSpan | undefined = job; s; s = spans.find((p) => p.spanId === s!.parentSpanId)) chain.push(s.name);
    expect(chain).toEqual(expect.arrayContaining(['director.tool_call', 'director.reply', 'director.turn', 'chat message.send']));
    // The background run's own turn, and its generation, hang under the job.
    const runTurn = spans.find((s) => s.name === 'director.turn' && s.attributes['troupe.turn.id'] === `${runId}.first`)!;
    expect(runTurn.parentSpanId).toBe(job.spanId);
  });

  it('continues an operator\'s trace from an admin request (traceparent header) into the run it queues', async () => {
    const traceId = randomBytes(16).toString('hex');
    const parentId = randomBytes(8).toString('hex');
    const response = await fetch(`${stack.sessionUrl}/admin/agent-runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${parentId}-01` },
      body: JSON.stringify({ role: 'helper', task: 'Say hello.' }),
    });
    expect(response.status).toBe(201);
    const { run } = (await response.json()) as { run: { runId: string } };
    const spans = await until(async () => {
      const found = collector.trace(traceId);
      return found.some((s) => s.name === 'inference.generate') && found.some((s) => s.name === 'agent-runs process' && s.endMs > 0) ? found : undefined;
    }, 'the queued run\'s spans');
    const request = spans.find((s) => s.name === 'POST /admin/agent-runs')!;
    expect(request).toMatchObject({ service: 'session', kind: SPAN_KIND.SERVER, parentSpanId: parentId });
    const job = spans.find((s) => s.name === 'agent-runs process')!;
    expect(job).toMatchObject({ parentSpanId: request.spanId, attributes: { 'messaging.message.id': run.runId } });
  });

  it('writes the trace id into the log lines of a traced turn, in every service it touched', async () => {
    const client = await connect('dee');
    const { sessionId } = await client.request('session.open', { roles: ['stagehand'], policy: { turnPolicy: 'single' } });
    const ack = await client.request('message.send', { sessionId, text: 'Please calculate two plus two.' });
    await client.turnEnd(ack.turnId);
    const spans = await traceOfTurn(ack.turnId, (s) => s.some((x) => x.service === 'tool-plugin'));
    const traceId = spans[0].traceId;
    const lines = (service: 'session' | 'role-context' | 'tool-plugin' | 'inference') =>
      stack.output(service).flatMap((l) => {
        try {
          return [JSON.parse(l) as Record<string, unknown>];
        } catch {
          return [];
        }
      });
    await until(async () => (lines('session').some((l) => l.msg === 'turn finished' && l.turnId === ack.turnId) ? true : undefined), 'the turn-finished log line');
    const finished = lines('session').find((l) => l.msg === 'turn finished' && l.turnId === ack.turnId)!;
    expect(finished).toMatchObject({ trace_id: traceId, span_id: expect.stringMatching(/^[0-9a-f]{16}$/) });
    expect(spans.map((s) => s.spanId)).toContain(finished.span_id);
    for (const service of ['role-context', 'tool-plugin', 'inference'] as const) {
      expect(lines(service).filter((l) => l.msg === 'grpc call' && l.trace_id === traceId).length).toBeGreaterThan(0);
    }
  });

  it('continues a producer\'s trace in an inference job, with the batch the request joined', async () => {
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const eventsConnection = connection.duplicate();
    const prefix = inferenceJobsPrefix(stack.prefix);
    const queue = new Queue(INFERENCE_JOBS_QUEUE, { connection, prefix });
    const events = new QueueEvents(INFERENCE_JOBS_QUEUE, { connection: eventsConnection, prefix });
    try {
      await events.waitUntilReady();
      const traceId = randomBytes(16).toString('hex');
      const parentId = randomBytes(8).toString('hex');
      const payload: GenerateJobPayload = {
        model: 'tiny-decoder',
        messages: [{ role: 'user', content: 'Write a line for the chorus.' }],
        params: { maxNewTokens: 6, seed: 3 },
        traceContext: { traceparent: `00-${traceId}-${parentId}-01` },
      };
      const job = await queue.add('generate', payload);
      const result = (await job.waitUntilFinished(events)) as GenerateJobResult;
      expect(result.usage.completionTokens).toBe(6);

      const spans = await until(async () => {
        const found = collector.trace(traceId);
        return found.some((s) => s.name === 'inference.decode') ? found : undefined;
      }, 'the job\'s spans');
      const consumer = spans.find((s) => s.name === 'inference-jobs process')!;
      expect(consumer).toMatchObject({ service: 'inference', kind: SPAN_KIND.CONSUMER, parentSpanId: parentId });
      const generation = spans.find((s) => s.name === 'inference.generate')!;
      expect(generation.parentSpanId).toBe(consumer.spanId);
      expect(generation.attributes).toMatchObject({ 'troupe.inference.priority': 'bulk', 'gen_ai.usage.output_tokens': 6 });
      const queued = spans.find((s) => s.name === 'inference.queue')!;
      const decode = spans.find((s) => s.name === 'inference.decode')!;
      expect([queued.parentSpanId, decode.parentSpanId]).toEqual([generation.spanId, generation.spanId]);
      expect(decode.attributes).toMatchObject({ 'troupe.batch.joined_size': expect.any(Number), 'troupe.batch.prefill_size': expect.any(Number), 'troupe.batch.decode_steps': 5 });
      expect(decode.startMs).toBeGreaterThanOrEqual(queued.endMs);
    } finally {
      await events.close();
      await queue.close();
      connection.disconnect();
      eventsConnection.disconnect();
    }
  });

  it('refuses a malformed trace context in an inference job, naming the field', async () => {
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(INFERENCE_JOBS_QUEUE, { connection, prefix: inferenceJobsPrefix(stack.prefix) });
    try {
      const job = await queue.add('generate', { model: 'tiny-decoder', messages: [{ role: 'user', content: 'x' }], traceContext: { traceparent: 'not-a-traceparent' } }, { attempts: 3 });
      const failed = await until(async () => {
        const state = await job.getState();
        return state === 'failed' ? (await queue.getJob(job.id!))! : undefined;
      }, 'the job to fail');
      expect(failed.failedReason).toContain('traceContext.traceparent');
      expect(failed.attemptsMade).toBe(1);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});

/** Off by default: without OTEL variables (or with the SDK disabled) nothing is exported and logs carry no trace ids. */
describe('tracing when not asked for', () => {
  let collector: OtlpCollector;
  const redis = testPrefix();
  const processes: ServiceProcess[] = [];

  beforeAll(async () => {
    collector = await OtlpCollector.start();
  });

  afterAll(async () => {
    await Promise.all(processes.map((p) => p.stop()));
    await collector?.close();
    await redis.cleanup();
  });

  it.each([
    ['no OTEL variables', {}],
    ['OTEL_SDK_DISABLED=true', { OTEL_SDK_DISABLED: 'true' }],
    ['OTEL_TRACES_EXPORTER=none', { OTEL_TRACES_EXPORTER: 'none' }],
  ])('%s: no spans leave the service', async (_label, otel: Record<string, string>) => {
    // The collector is named in every case but the first, so only the switch keeps spans from it.
    const env = { REDIS_KEY_PREFIX: redis.prefix, LOG_LEVEL: 'debug', OTEL_BSP_SCHEDULE_DELAY: '50', ...(Object.keys(otel).length ? { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', ...otel } : {}) };
    const service = await ServiceProcess.start('role-context', env);
    processes.push(service);
    const client = service.roleContextClient();
    try {
      await client.unary('assembleContext', { sessionId: 's-untraced', roleId: 'narrator' });
    } finally {
      client.close();
    }
    await new Promise((r) => setTimeout(r, 500));
    expect(collector.requests).toBe(0);
    const logs = service.output.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logs.some((l) => l.msg === 'grpc call')).toBe(true);
    expect(logs.filter((l) => 'trace_id' in l || String(l.msg).startsWith('tracing on'))).toEqual([]);
  });
});

describe('tracing a remote model', () => {
  it('gives each upstream exchange a client span and sends its context upstream as traceparent', async () => {
    const collector = await OtlpCollector.start();
    const upstream = await OpenAiTestServer.start({ apiKey: 'sk-test', models: ['gpt-test'] });
    const redis = testPrefix();
    const modelsDir = mkdtempSync(join(tmpdir(), 'troupe-traced-models-'));
    cpSync(join(REPO_ROOT, 'models', 'paced'), join(modelsDir, 'paced'), { recursive: true });
    mkdirSync(join(modelsDir, 'remote'));
    writeFileSync(
      join(modelsDir, 'remote', 'manifest.json'),
      JSON.stringify({ name: 'remote', version: '1', kind: 'openai-compatible', baseUrl: upstream.baseUrl, model: 'gpt-test', apiKeyEnv: 'TEST_UPSTREAM_KEY' }),
    );
    const service = await ServiceProcess.start('inference', {
      REDIS_KEY_PREFIX: redis.prefix,
      MODELS_DIR: modelsDir,
      DEFAULT_MODEL: 'paced',
      INFERENCE_SECRET_ENV_NAMES: 'TEST_UPSTREAM_KEY',
      TEST_UPSTREAM_KEY: 'sk-test',
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
    });
    const grpc = new GrpcClient(INFERENCE_CONTRACT, service.grpcAddress, 30_000);
    try {
      const request = generateRequest('remote', [{ role: 'user', name: 'Ada', content: 'Hello there.' }], 32);
      for await (const _chunk of grpc.serverStream<inference.GenerateRequest, inference.GenerateResponse>('generate', request)) {
        // drained: the reply itself is remote-models.e2e-spec's business
      }
      const call = await until(async () => collector.spans.find((s) => s.name === 'chat gpt-test'), 'the upstream client span');
      const spans = await until(async () => {
        const found = collector.trace(call.traceId);
        return found.length >= 3 ? found : undefined;
      }, 'the request\'s spans');
      expectOneConnectedTrace(spans);
      const generation = spans.find((s) => s.name === 'inference.generate')!;
      expect(call).toMatchObject({ kind: SPAN_KIND.CLIENT, parentSpanId: generation.spanId, attributes: { 'gen_ai.request.model': 'gpt-test' } });
      expect(upstream.requests.map((r) => r.traceparent)).toEqual([`00-${call.traceId}-${call.spanId}-01`]);
    } finally {
      grpc.close();
      await service.stop();
      await upstream.close();
      await collector.close();
      await redis.cleanup();
      rmSync(modelsDir, { recursive: true, force: true });
    }
  });
});

describe('tracing at shutdown', () => {
  it('exports the spans still buffered when the service stops gracefully', async () => {
    const collector = await OtlpCollector.start();
    const redis = testPrefix();
    // Batches would wait a minute: only the flush at SIGTERM can deliver them in time.
    const service = await ServiceProcess.start('role-context', {
      REDIS_KEY_PREFIX: redis.prefix,
      OTEL_EXPORTER_OTLP_ENDPOINT: collector.url,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '60000',
      OTEL_SERVICE_NAME: 'role-context-eu',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=test',
    });
    try {
      const client = service.roleContextClient();
      await client.unary('getRole', { id: 'narrator', version: 0 }).finally(() => client.close());
      await new Promise((r) => setTimeout(r, 300));
      expect(collector.spans).toEqual([]);
      await service.stop();
      const [span] = collector.spans;
      expect(span).toMatchObject({ service: 'role-context-eu', name: 'troupe.role_context.v1.RoleContextService/GetRole', kind: SPAN_KIND.SERVER, parentSpanId: '' });
      expect(span.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.method': 'GetRole' });
      expect(span.resource).toMatchObject({ 'service.name': 'role-context-eu', 'deployment.environment': 'test' });
    } finally {
      await service.stop();
      await collector.close();
      await redis.cleanup();
    }
  });
});
