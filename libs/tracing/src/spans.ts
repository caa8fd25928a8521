import { Attributes, Context, Link, Span, SpanKind, SpanStatusCode, context, trace } from '@opentelemetry/api';
import { Observable } from 'rxjs';

export { SpanKind, SpanStatusCode } from '@opentelemetry/api';
export type { Attributes, Context, Span } from '@opentelemetry/api';

/** Instrumentation scope of every span Troupe makes itself. */
export const TRACER_NAME = 'troupe';

/** The tracer of the process (a no-op one while tracing is off). */
export function tracer() {
  return trace.getTracer(TRACER_NAME);
}

export interface TroupeSpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent context (e.g. extracted from a queued payload); default: the active one. */
  parent?: Context;
  links?: Link[];
  /** Errors that end the work without failing it (e.g. a queue's control-flow errors); default: every error fails. */
  isFailure?: (error: unknown) => boolean;
}

/** Starts a span under `options.parent` (or the active context) without making it active. */
export function startSpan(name: string, options: TroupeSpanOptions = {}): { span: Span; context: Context } {
  const parent = options.parent ?? context.active();
  const span = tracer().startSpan(name, { kind: options.kind, attributes: options.attributes, links: options.links }, parent);
  return { span, context: trace.setSpan(parent, span) };
}

/** Runs fn with `ctx` active (e.g. a span started with startSpan, for the calls fn makes). */
export function runInContext<T>(ctx: Context, fn: () => T): T {
  return context.with(ctx, fn);
}

/** Marks a span failed with the error's message (and records it as an exception event). */
export function recordFailure(span: Span, error: unknown): void {
  const message = error instanceof Error ? error.message : typeof error === 'object' && error && 'message' in error ? String(error.message) : String(error);
  span.recordException(error instanceof Error ? error : { message });
  span.setStatus({ code: SpanStatusCode.ERROR, message });
}

/** Runs `fn` inside a new active span, ended when it settles; a thrown error marks the span failed. */
export async function inSpan<T>(name: string, options: TroupeSpanOptions, fn: (span: Span) => Promise<T>): Promise<T> {
  const started = startSpan(name, options);
  try {
    return await context.with(started.context, () => fn(started.span));
  } catch (e) {
    if (options.isFailure?.(e) ?? true) recordFailure(started.span, e);
    else started.span.setAttribute('troupe.ended_by', e instanceof Error ? e.name : String(e));
    throw e;
  } finally {
    started.span.end();
  }
}

/**
 * Subscribes to `source(span)` inside a new active span, so the work it starts (and the async
 * work that follows from it) belongs to the span. The span ends when the stream completes,
 * fails, or is unsubscribed (a cancelled call).
 */
export function inSpanObservable<T>(name: string, options: TroupeSpanOptions, source: (span: Span) => Observable<T>): Observable<T> {
  return new Observable<T>((subscriber) => {
    const { span, context: spanContext } = startSpan(name, options);
    let ended = false;
    const end = (error?: unknown) => {
      if (ended) return;
      ended = true;
      if (error !== undefined) recordFailure(span, error);
      span.end();
    };
    const subscription = context.with(spanContext, () =>
      source(span).subscribe({
        next: (value) => subscriber.next(value),
        error: (e: unknown) => {
          end(e);
          subscriber.error(e);
        },
        complete: () => {
          end();
          subscriber.complete();
        },
      }),
    );
    return () => {
      if (!ended) span.setAttribute('troupe.cancelled', true);
      end();
      subscription.unsubscribe();
    };
  });
}

/** Records a span whose times are already known (work measured elsewhere, e.g. in a worker thread). */
export function recordSpan(name: string, options: TroupeSpanOptions & { startTime: number; endTime: number }): void {
  const parent = options.parent ?? context.active();
  tracer()
    .startSpan(name, { kind: options.kind, attributes: options.attributes, links: options.links, startTime: options.startTime }, parent)
    .end(options.endTime);
}
