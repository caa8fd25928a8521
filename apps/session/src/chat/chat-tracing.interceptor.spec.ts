import { CallHandler, ExecutionContext } from '@nestjs/common';
import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Tracing, injectTraceContext, startInMemoryTracing } from '@troupe/tracing';
import { defer, lastValueFrom, of } from 'rxjs';
import { ChatTracingInterceptor } from './chat-tracing.interceptor';

/** A socket event as Nest hands it to an interceptor. */
function socketEvent(event: string, data: unknown): ExecutionContext {
  return { getType: () => 'ws', switchToWs: () => ({ getPattern: () => event, getData: () => data }) } as unknown as ExecutionContext;
}

describe('ChatTracingInterceptor', () => {
  let exporter: InMemorySpanExporter;
  let tracing: Tracing;
  const interceptor = new ChatTracingInterceptor();

  beforeEach(() => {
    ({ tracing, exporter } = startInMemoryTracing('session'));
  });

  afterEach(() => tracing.shutdown());

  it('runs the handler inside a server span named after the event, with the session id', async () => {
    let carried: string | undefined;
    const next: CallHandler = { handle: () => defer(() => ((carried = injectTraceContext()?.traceparent), of({ ok: true, turnId: 't1' }))) };
    await expect(lastValueFrom(interceptor.intercept(socketEvent('message.send', { sessionId: 's-1', text: 'hi' }), next))).resolves.toEqual({ ok: true, turnId: 't1' });
    const [span] = exporter.getFinishedSpans();
    expect(span).toMatchObject({ name: 'chat message.send', kind: 1, attributes: { 'troupe.chat.event': 'message.send', 'troupe.session.id': 's-1' } });
    expect(span.status.code).toBe(0);
    expect(carried).toContain(span.spanContext().spanId);
  });

  it('marks the span failed for an error ack, and ignores a session id that is not a short string', async () => {
    const next: CallHandler = { handle: () => of({ ok: false, error: { code: 'BUSY', message: 'the roles are still answering' } }) };
    await lastValueFrom(interceptor.intercept(socketEvent('message.send', { sessionId: { $ne: 1 } }), next));
    const [span] = exporter.getFinishedSpans();
    expect(span.status).toMatchObject({ code: 2, message: 'BUSY: the roles are still answering' });
    expect(span.attributes['troupe.session.id']).toBeUndefined();
  });
});
