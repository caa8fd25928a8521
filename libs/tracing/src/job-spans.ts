import { SpanKind } from '@opentelemetry/api';
import { TroupeSpanOptions, inSpan } from './spans';
import { TraceCarrier, withTraceContext } from './trace-context';

/** What a consumer span needs of a queued job (a BullMQ Job fits). */
export interface QueuedJob {
  id?: string;
  name: string;
  attemptsMade: number;
  data?: unknown;
}

/**
 * Runs a job's work in a consumer span that continues the trace its producer put in the job's
 * data (`data.traceContext`); a job without one (or with a malformed one) starts a new trace.
 */
export function inJobSpan<T>(queue: string, job: QueuedJob, fn: () => Promise<T>, options: Pick<TroupeSpanOptions, 'isFailure'> = {}): Promise<T> {
  const carrier = (job.data as { traceContext?: TraceCarrier } | undefined)?.traceContext;
  const attributes = {
    'messaging.system': 'bullmq',
    'messaging.destination.name': queue,
    'messaging.operation.type': 'process',
    'messaging.message.id': job.id ?? '',
    'troupe.job.name': job.name,
    'troupe.job.attempt': job.attemptsMade + 1,
  };
  return withTraceContext(carrier, () => inSpan(`${queue} process`, { kind: SpanKind.CONSUMER, attributes, isFailure: options.isFailure }, fn));
}
