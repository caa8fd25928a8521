import { SpanKind, context, trace } from '@opentelemetry/api';
import { BatchSpanProcessor, InMemorySpanExporter, ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { inJobSpan } from './job-spans';
import { inSpan } from './spans';
import { TraceCarrierDto, activeTraceIds, extractTraceContext, injectTraceContext, withTraceContext } from './trace-context';
import { Tracing, startInMemoryTracing, startTracing } from './tracer-provider';

const SETTINGS = { serviceName: 'unit', resourceAttributes: {}, url: 'http://127.0.0.1:9/v1/traces', protocol: 'http/json' as const };

describe('trace context while tracing is on', () => {
  let exporter: InMemorySpanExporter;
  let tracing: Tracing;

  beforeEach(() => {
    ({ tracing, exporter } = startInMemoryTracing());
  });

  afterEach(() => tracing.shutdown());

  it('carries the active span as a W3C traceparent that a consumer continues', async () => {
    const carrier = await inSpan('producer', {}, async (span) => {
      const c = injectTraceContext()!;
      expect(c.traceparent).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
      return c;
    });
    // Elsewhere (another process, a queue worker): continue from the carrier alone.
    await withTraceContext(carrier, () => inSpan('consumer', { kind: SpanKind.CONSUMER }, async () => undefined));
    const [producer, consumer] = exporter.getFinishedSpans();
    expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
    expect(consumer.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
  });

  it('starts a new trace for work that carries no context, whatever span its loop runs in', async () => {
    await inSpan('loop', {}, () => withTraceContext(undefined, () => inSpan('queued work', {}, async () => undefined)));
    const [work, loop] = exporter.getFinishedSpans();
    expect(work.spanContext().traceId).not.toBe(loop.spanContext().traceId);
    expect(work.parentSpanContext).toBeUndefined();
  });

  it('ignores a malformed traceparent (a new trace starts)', () => {
    expect(trace.getSpanContext(extractTraceContext({ traceparent: 'garbage' }))).toBeUndefined();
    expect(trace.getSpanContext(extractTraceContext(undefined))).toBeUndefined();
  });

  it('gives log lines the active span ids, and none outside a span', async () => {
    expect(activeTraceIds()).toBeUndefined();
    const ids = await inSpan('work', {}, async (span) => {
      expect(activeTraceIds()).toEqual({ trace_id: span.spanContext().traceId, span_id: span.spanContext().spanId });
      return activeTraceIds();
    });
    expect(ids?.trace_id).toMatch(/^[0-9a-f]{32}$/);
  });

  it('marks a span failed when its work throws, and rethrows', async () => {
    await expect(inSpan('failing', {}, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    const [span] = exporter.getFinishedSpans();
    expect(span.status).toMatchObject({ code: 2, message: 'boom' });
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
  });

  it('leaves a job span unfailed when its work ends with a control-flow error', async () => {
    class WaitingChildren extends Error {
      override name = 'WaitingChildren';
    }
    const job = { id: 'run-2', name: 'agent.run', attemptsMade: 0, data: {} };
    const waiting = inJobSpan('agent-runs', job, () => Promise.reject(new WaitingChildren()), { isFailure: (e) => !(e instanceof WaitingChildren) });
    await expect(waiting).rejects.toBeInstanceOf(WaitingChildren);
    await expect(inJobSpan('agent-runs', job, () => Promise.reject(new Error('TURN_FAILED')))).rejects.toThrow('TURN_FAILED');
    const [paused, failed] = exporter.getFinishedSpans();
    expect([paused.status.code, paused.attributes['troupe.ended_by']]).toEqual([0, 'WaitingChildren']);
    expect(failed.status).toMatchObject({ code: 2, message: 'TURN_FAILED' });
  });

  it('runs a job in a consumer span under the context in its data', async () => {
    const carrier = await inSpan('enqueue', {}, async () => injectTraceContext());
    await inJobSpan('agent-runs', { id: 'run-1', name: 'agent.run', attemptsMade: 1, data: { task: 't', traceContext: carrier } }, async () => undefined);
    const [producer, job] = exporter.getFinishedSpans();
    expect(job).toMatchObject({ name: 'agent-runs process', kind: SpanKind.CONSUMER });
    expect(job.attributes).toMatchObject({ 'messaging.system': 'bullmq', 'messaging.message.id': 'run-1', 'troupe.job.attempt': 2 });
    expect(job.parentSpanContext?.spanId).toBe(producer.spanContext().spanId);
  });

  it('exports buffered spans on shutdown, then the tracer is a no-op', async () => {
    // (InMemorySpanExporter forgets its spans on shutdown; this one keeps them.)
    const exported: string[] = [];
    const keeping: SpanExporter = {
      export: (spans: ReadableSpan[], done) => {
        exported.push(...spans.map((s) => s.name));
        done({ code: 0 });
      },
      shutdown: async () => undefined,
    };
    await tracing.shutdown();
    tracing = startTracing(SETTINGS, { spanProcessor: new BatchSpanProcessor(keeping, { scheduledDelayMillis: 60_000 }) });
    await inSpan('buffered', {}, async () => undefined);
    expect(exported).toEqual([]);
    await tracing.shutdown();
    expect(exported).toEqual(['buffered']);
    await inSpan('after', {}, async () => expect(injectTraceContext()).toBeUndefined());
    ({ tracing, exporter } = startInMemoryTracing());
  });
});

describe('trace context while tracing is off', () => {
  it('injects nothing and still runs the work', async () => {
    const result = await inSpan('work', {}, async (span) => {
      expect(span.isRecording()).toBe(false);
      expect(injectTraceContext()).toBeUndefined();
      expect(activeTraceIds()).toBeUndefined();
      return 42;
    });
    expect(result).toBe(42);
    expect(trace.getSpan(context.active())).toBeUndefined();
  });
});

describe('TraceCarrierDto', () => {
  const problems = (value: object) => validateSync(plainToInstance(TraceCarrierDto, value), { whitelist: true, forbidNonWhitelisted: true }).map((e) => e.property);

  it('accepts a W3C traceparent with an optional tracestate', () => {
    expect(problems({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'congo=t61rcWkgMzE' })).toEqual([]);
  });

  it('names the field that is wrong', () => {
    expect(problems({ traceparent: '00-XYZ-00f067aa0ba902b7-01' })).toEqual(['traceparent']);
    expect(problems({ traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', extra: 1 })).toEqual(['extra']);
  });
});
