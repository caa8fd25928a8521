import type { ExecutionProviderStatus } from './causal-lm.session';
import type { EngineLimits } from './generation.engine';
import type { EngineStats, GenerateRequest } from './generation.types';
import type { KeyedDone, TokenDeltaColumns } from './token-deltas';

/** workerData of generation.worker. */
export interface GenerationWorkerData {
  modelDir: string;
  intraOpThreads?: number;
  executionProviders?: string[];
  /** Batch bounds (max batch size, KV budget, queue bound, prefill budget); defaults otherwise. */
  limits?: Partial<Omit<EngineLimits, 'kvBytesPerToken'>>;
  /** Longest a decoded token waits to be sent with later ones (0: every step; see TokenDeltaBuffer). */
  streamIntervalMs?: number;
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
  /** Messages posted in the same turn of the main thread's event loop, in order (see GenerationWorkerClient.post). */
  | { type: 'batch'; messages: ToWorker[] }
  /**
   * Fault injection: the worker exits with code 1 at the next step boundary, the way a crash
   * ends it. Never mid-run: onnxruntime-node aborts the whole process when a worker thread
   * dies while a run is in flight, so tests must not use worker.terminate() for this.
   */
  | { type: 'crash' };

/**
 * The events of every request decoded since the last message travel in one message, tokens in
 * columns (a message per token, or an object per token, would cost more than the decoding).
 */
export type FromWorker =
  | { type: 'ready'; executionProvider: ExecutionProviderStatus }
  | { type: 'init-error'; message: string }
  | { type: 'events'; deltas: TokenDeltaColumns; dones: KeyedDone[]; stats?: EngineStats; batchSizes: number[] };
