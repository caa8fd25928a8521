import type { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { Observable, Subject, lastValueFrom, of, throwError } from 'rxjs';
import { inSpan, inSpanObservable, recordSpan } from './spans';
import { injectTraceContext } from './trace-context';
import { Tracing, startInMemoryTracing } from './tracer-provider';

describe('span helpers', () => {
  let exporter: InMemorySpanExporter;
  let tracing: Tracing;

  beforeEach(() => {
    ({ tracing, exporter } = startInMemoryTracing());
  });

  afterEach(() => tracing.shutdown());

  it('runs an observable inside its span, ending it when the stream completes', async () => {
    let seenInside: string | undefined;
    const source = new Observable<number>((subscriber) => {
      seenInside = injectTraceContext()?.traceparent;
      subscriber.next(1);
      subscriber.complete();
    });
    await lastValueFrom(inSpanObservable('stream', {}, () => source));
    const [span] = exporter.getFinishedSpans();
    expect(seenInside).toContain(span.spanContext().spanId);
    expect(span.attributes['troupe.cancelled']).toBeUndefined();
  });

  it('marks the span failed when the stream errors', async () => {
    await expect(lastValueFrom(inSpanObservable('stream', {}, () => throwError(() => new Error('no model'))))).rejects.toThrow('no model');
    expect(exporter.getFinishedSpans()[0].status).toMatchObject({ code: 2, message: 'no model' });
  });

  it('ends the span as cancelled when the subscriber leaves first, once', () => {
    const never = new Subject<number>();
    const subscription = inSpanObservable('stream', {}, () => never).subscribe();
    expect(exporter.getFinishedSpans()).toHaveLength(0);
    subscription.unsubscribe();
    subscription.unsubscribe();
    expect(exporter.getFinishedSpans().map((s) => [s.name, s.attributes['troupe.cancelled']])).toEqual([['stream', true]]);
  });

  it('records a span measured elsewhere under the given parent, with its own times', async () => {
    await inSpan('request', {}, async () => recordSpan('queue', { startTime: 1_000, endTime: 1_250 }));
    const [queue, request] = exporter.getFinishedSpans();
    expect(queue.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(queue.duration).toEqual([0, 250_000_000]);
  });

  it('passes values through untouched', async () => {
    await expect(lastValueFrom(inSpanObservable('stream', {}, () => of('a', 'b')))).resolves.toBe('b');
  });
});
