import { Context, ROOT_CONTEXT, context, propagation, trace } from '@opentelemetry/api';
import { IsOptional, IsString, Matches, MaxLength } from 'class-validator';

/**
 * The W3C trace context as it travels in a queued turn, a job's data or gRPC metadata:
 * `traceparent` and, when present, `tracestate` (https://www.w3.org/TR/trace-context/).
 */
export interface TraceCarrier {
  traceparent: string;
  tracestate?: string;
}

/** Validates a carrier that arrived from outside (a queue payload): the field is named on failure. */
export class TraceCarrierDto implements TraceCarrier {
  @Matches(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, { message: 'traceparent must be a W3C traceparent (version-traceid-spanid-flags, lower-case hex)' })
  traceparent!: string;

  @IsOptional()
  @IsString()
  @MaxLength(512)
  tracestate?: string;
}

/**
 * The active span's context as a carrier, or undefined when there is none (tracing off, or
 * no span active): callers add nothing then, so an untraced payload stays as it was.
 */
export function injectTraceContext(from: Context = context.active()): TraceCarrier | undefined {
  if (!trace.getSpan(from)) return undefined;
  const carrier: Partial<TraceCarrier> = {};
  propagation.inject(from, carrier);
  return carrier.traceparent ? (carrier as TraceCarrier) : undefined;
}

/** The context a carrier describes (the root context when there is none or it is malformed). */
export function extractTraceContext(carrier: Partial<TraceCarrier> | Record<string, unknown> | undefined): Context {
  if (!carrier || typeof carrier !== 'object') return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** Ids of the active span, for log lines; undefined when no (sampled or not) span is active. */
export function activeTraceIds(): { trace_id: string; span_id: string } | undefined {
  const span = trace.getActiveSpan();
  if (!span) return undefined;
  const { traceId, spanId } = span.spanContext();
  return trace.isSpanContextValid(span.spanContext()) ? { trace_id: traceId, span_id: spanId } : undefined;
}

/**
 * Runs fn in the context a carrier describes — a new trace when there is none. Work picked up
 * from a queue uses it, so it never inherits whatever context its loop happened to start in.
 */
export function withTraceContext<T>(carrier: Partial<TraceCarrier> | undefined, fn: () => T): T {
  return context.with(extractTraceContext(carrier), fn);
}
