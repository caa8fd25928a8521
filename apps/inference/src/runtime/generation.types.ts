/** Public request/event shapes of local causal-LM generation (shared by client and worker). */

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
}

export type FinishReason = 'stop' | 'length' | 'cancelled' | 'error';

export type GenerationEvent =
  | {
      type: 'token';
      tokenId: number;
      /** UTF-8-safe text delta (special tokens skipped; may be '' while a character is incomplete). */
      text: string;
      /** 0-based index of this token in the completion. */
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
    };

export type DoneEvent = Extract<GenerationEvent, { type: 'done' }>;
