import type { ExecutionProviderStatus } from './causal-lm.session';
import type { EngineLimits } from './generation.engine';
import type { EngineStats, GenerateRequest, GenerationEvent } from './generation.types';

/** workerData of generation.worker. */
export interface GenerationWorkerData {
  modelDir: string;
  intraOpThreads?: number;
  executionProviders?: string[];
  /** Batch bounds (max batch size, KV budget, queue bound, prefill budget); defaults otherwise. */
  limits?: Partial<Omit<EngineLimits, 'kvBytesPerToken'>>;
}

/**
 * Requests are addressed by `key`, a number unique per generate() call on the client, not by
 * the caller's requestId: a requestId may be reused while the worker still finishes an older
 * (cancelled) request of the same id, and the two streams must never mix.
 */
export type ToWorker =
  | { type: 'generate'; key: number; request: GenerateRequest }
  | { type: 'cancel'; key: number }
  | { type: 'shutdown' }
  /**
   * Fault injection: the worker exits with code 1 at the next step boundary, the way a crash
   * ends it. Never mid-run: onnxruntime-node aborts the whole process when a worker thread
   * dies while a run is in flight, so tests must not use worker.terminate() for this.
   */
  | { type: 'crash' };

/** Events of one decode step travel in one message (a message per token would cost more). */
export type FromWorker =
  | { type: 'ready'; executionProvider: ExecutionProviderStatus }
  | { type: 'init-error'; message: string }
  | { type: 'events'; events: { key: number; event: GenerationEvent }[]; stats?: EngineStats; batchSizes: number[] };
