import type { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import type { ExecutionProviderStatus } from './causal-lm.session';
import { encodeChatPrompt } from './chat-template';
import type { ChatMessage } from './chat-template';
import type { GenerationSink } from './generation-worker.client';
import type { EngineStats, GenerateRequest } from './generation.types';

/**
 * What generation needs of a model, whatever serves it: a local causal LM, a paced model, a
 * remote OpenAI-compatible backend or a router over those. Local models tokenize the chat
 * themselves (they have a tokenizer); remote ones and routers take the messages as they are.
 */
export interface TextModel {
  readonly manifest: { name: string; version: string; kind: string; contextLength: number; eosToken?: string };
  /** Absent for models that take chat messages rather than prompt token ids. */
  readonly tokenizer?: ByteLevelBpeTokenizer;
  readonly executionProvider: ExecutionProviderStatus;
  readonly openStreams: number;
  onStats(listener: (s: EngineStats, batchSizes: readonly number[]) => void): () => void;
  /** Routers: the circuit breaker state of each target model. */
  breakerStates?(): Record<string, string>;
  /** Streams events to the sink; the returned function cancels. */
  submit(req: GenerateRequest, sink: GenerationSink): () => void;
  drainAndClose(): Promise<void>;
  close(): Promise<void>;
}

/** A generation request before it is fitted to one model: chat messages, no token ids yet. */
export type ChatGenerateRequest = Omit<GenerateRequest, 'promptTokenIds' | 'stopTokenIds'> & { messages: ChatMessage[] };

/** The request as `model` takes it: the chat encoded with its tokenizer, or the messages alone. */
export function fitRequest(model: TextModel, req: ChatGenerateRequest): GenerateRequest {
  const tokenizer = model.tokenizer;
  if (!tokenizer) return { ...req, promptTokenIds: [], stopTokenIds: [] };
  // Local models get token ids only: the messages would be copied to the worker for nothing.
  const { messages, ...rest } = req;
  const eos = model.manifest.eosToken === undefined ? undefined : tokenizer.tokenToId(model.manifest.eosToken);
  return { ...rest, promptTokenIds: encodeChatPrompt(tokenizer, messages), stopTokenIds: eos === undefined ? [] : [eos] };
}
