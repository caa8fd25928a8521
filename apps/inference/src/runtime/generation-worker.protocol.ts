import type { GenerateRequest, GenerationEvent } from './generation.types';

/** workerData of generation.worker. */
export interface GenerationWorkerData {
  modelDir: string;
  intraOpThreads?: number;
  maxActiveSequences?: number;
}

export type ToWorker =
  | { type: 'generate'; request: GenerateRequest }
  | { type: 'cancel'; requestId: string }
  | { type: 'shutdown' };

export type FromWorker =
  | { type: 'ready' }
  | { type: 'init-error'; message: string }
  | { type: 'event'; requestId: string; event: GenerationEvent };
