import { Context, Span, recordFailure, recordSpan, runInContext, startSpan } from '@troupe/tracing';
import type { DoneEvent } from '../runtime/generation.types';

/** Finish reasons that fail the request (the rest are normal ends). */
const FAILED = new Set(['error', 'deadline', 'rejected']);

/**
 * The spans of one generation request: `inference.generate` from arrival to its end, with two
 * children drawn when it ends from what the batch engine measured — `inference.queue` (waiting
 * for a batch slot) and `inference.decode` (in the running batch, with the batch it joined).
 * Nothing is recorded per token; the first token is one event.
 */
export class GenerationTrace {
  private readonly span: Span;
  private readonly context: Context;
  private readonly startedAt = Date.now();
  private sawToken = false;
  private ended = false;

  constructor(model: string, request: { requestId: string; priority: string; maxNewTokens: number }) {
    ({ span: this.span, context: this.context } = startSpan('inference.generate', {
      attributes: {
        'gen_ai.operation.name': 'text_completion',
        'gen_ai.request.model': model,
        'gen_ai.request.max_tokens': request.maxNewTokens,
        'troupe.inference.request_id': request.requestId,
        'troupe.inference.priority': request.priority,
      },
    }));
  }

  /** Runs fn with the request's span active, so what it calls (a remote backend) joins the trace. */
  run<T>(fn: () => T): T {
    return runInContext(this.context, fn);
  }

  token(): void {
    if (this.sawToken) return;
    this.sawToken = true;
    this.span.addEvent('first_token');
  }

  done(event: DoneEvent): void {
    if (this.ended) return;
    this.ended = true;
    const endedAt = Date.now();
    const admittedAt = Math.min(endedAt, this.startedAt + (event.queueMs ?? 0));
    this.span.setAttributes({
      'gen_ai.usage.input_tokens': event.promptTokens,
      'gen_ai.usage.output_tokens': event.completionTokens,
      'gen_ai.response.finish_reasons': [event.finishReason],
      'troupe.inference.queue_ms': event.queueMs ?? 0,
    });
    if (FAILED.has(event.finishReason)) recordFailure(this.span, new Error(event.error ?? event.finishReason));
    if (event.batch) {
      recordSpan('inference.queue', { parent: this.context, startTime: this.startedAt, endTime: admittedAt });
      recordSpan('inference.decode', {
        parent: this.context,
        startTime: admittedAt,
        endTime: endedAt,
        attributes: {
          'troupe.batch.joined_size': event.batch.joinedSize,
          'troupe.batch.prefill_size': event.batch.prefillSize,
          'troupe.batch.prefill_ms': event.batch.prefillMs,
          'troupe.batch.decode_steps': Math.max(0, event.completionTokens - 1),
        },
      });
    }
    this.span.end(endedAt);
  }

  failed(error: Error): void {
    if (this.ended) return;
    this.ended = true;
    recordFailure(this.span, error);
    this.span.end();
  }

  /** The caller went away (cancelled, or its deadline passed) before the request ended. */
  abandoned(): void {
    if (this.ended) return;
    this.ended = true;
    this.span.setAttribute('troupe.cancelled', true);
    this.span.end();
  }
}
