/**
 * The `inference-jobs` queue (BullMQ): bulk generations for background agents, fed to the same
 * batch scheduler as gRPC requests at lower priority. Producers import the names and types here.
 */
export const INFERENCE_JOBS_QUEUE = 'inference-jobs';

/** BullMQ key prefix under a service's Redis key prefix (BullMQ does not use ioredis keyPrefix). */
export const inferenceJobsPrefix = (redisKeyPrefix: string) => `${redisKeyPrefix}bull`;

export interface GenerateJobMessage {
  role: 'system' | 'user' | 'assistant';
  name?: string;
  content: string;
}

/** Payload of a `generate` job (validated by the inference service; the field is named on failure). */
export interface GenerateJobPayload {
  /** '' or absent: the default model. */
  model?: string;
  messages: GenerateJobMessage[];
  params?: {
    maxNewTokens?: number;
    temperature?: number;
    topK?: number;
    topP?: number;
    seed?: number;
    repetitionPenalty?: number;
    stop?: string[];
  };
  /** Fails the job (no retry) when generation has not finished in this time. */
  timeoutMs?: number;
  /**
   * W3C trace context of the producer (`injectTraceContext()` of @troupe/tracing): the job's
   * spans join that trace. Absent: the job starts a trace of its own (when tracing is on).
   */
  traceContext?: { traceparent: string; tracestate?: string };
}

/** Stored as the job's return value. */
export interface GenerateJobResult {
  text: string;
  finishReason: string;
  model: string;
  usage: { promptTokens: number; completionTokens: number };
}

/** Job name -> payload and result: the typed map of this queue. */
export interface InferenceJobs {
  generate: { payload: GenerateJobPayload; result: GenerateJobResult };
}

export type InferenceJobName = keyof InferenceJobs;
export const INFERENCE_JOB_NAMES: readonly InferenceJobName[] = ['generate'];
