import type { GenerateRequest, GenerationEvent } from './generation.types';

/** workerData of generation.worker. */
export interface GenerationWorkerData {
  modelDir: string;
  intraOpThreads?: number;
  maxActiveSequences?: number;
}

/**
 * Requests are addressed by `key`, a number unique per generate() call on the client, not by
 * the caller's requestId: a requestId may be reused while the worker still finishes an older
 * (cancelled) request of the same id, and the two streams must never mix.
 */
export type ToWorker =
  | { type: 'generate'; key: number; request: GenerateRequest }
  | { type: 'cancel'; key: number }
  | { type: 'shutdown' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; message: string }
  | { type: 'event'; key: number; event: GenerationEvent };
