/** Public request/event shapes of generation (shared by client and worker, local and remote models). */
import type { ChatMessage } from './chat-template';

export interface GenerateRequest {
  requestId: string;
  promptTokenIds: number[];
  maxNewTokens: number;
  /** 0 = greedy. */
  temperature: number;
  /** 0 = no top-k limit. */
  topK: number;
  /** 1 = no top-p limit. */
  topP: number;
  /** Sampling seed; same seed + same request = same tokens. Random when omitted. */
  seed?: number;
  /** Generation ends (finishReason 'stop') when one of these is sampled; it is not streamed. */
  stopTokenIds: number[];
  /** Generation ends (finishReason 'stop') when the completion text contains one of these. */
  stopSequences?: string[];
  /** > 1 discourages tokens already in prompt or completion (1 or absent = off). */
  repetitionPenalty?: number;
  /** 'interactive' (default) is admitted before 'bulk'. */
  priority?: 'interactive' | 'bulk';
  /** Epoch ms; past it the request ends with finishReason 'deadline'. */
  deadlineAt?: number;
  /** The chat itself, for models without a tokenizer (remote backends, routers); local models use promptTokenIds. */
  messages?: ChatMessage[];
}

/** 'deadline': the deadline passed; 'rejected': queue full or larger than the KV budget. */
export type FinishReason = 'stop' | 'length' | 'cancelled' | 'error' | 'deadline' | 'rejected';

export type GenerationEvent =
  | {
      /** One or more consecutive completion tokens (a delta). */
      type: 'token';
      /** Their ids, in order (0 for backends that do not report ids); the length is the token count. */
      tokenIds: number[];
      /** UTF-8-safe text they add (special tokens skipped; may be '' while a character is incomplete). */
      text: string;
      /** 0-based completion index of the first of them. */
      index: number;
    }
  | {
      type: 'done';
      finishReason: FinishReason;
      /** Prompt tokens actually used (after left-truncation). */
      promptTokens: number;
      /** Sampled tokens, including a stop token that ended generation. */
      completionTokens: number;
      error?: string;
      /** Prompt tokens dropped from the left to fit contextLength - maxNewTokens (absent when none). */
      truncatedPromptTokens?: number;
      /** Time spent waiting for a batch slot. */
      queueMs?: number;
      /** The running batch the request joined (local continuous batching only), for its trace. */
      batch?: BatchAdmission;
    };

/** How a request joined the running batch: sizes at admission and the prefill run it shared. */
export interface BatchAdmission {
  /** Sequences in the running batch right after it joined (itself included). */
  joinedSize: number;
  /** Sequences prefilled together with it in one run. */
  prefillSize: number;
  prefillMs: number;
}

export type DoneEvent = Extract<GenerationEvent, { type: 'done' }>;
export type TokenEvent = Extract<GenerationEvent, { type: 'token' }>;

/** Batch state of one engine after a step (for metrics and status). */
export interface EngineStats {
  running: number;
  waiting: number;
  /** Sequences in the last decode run. */
  batchSize: number;
  /** Bytes held by the batch's KV tensors (padding included). */
  kvCacheBytes: number;
  kvCacheBudgetBytes: number;
  /** Decode runs so far. */
  steps: number;
}
