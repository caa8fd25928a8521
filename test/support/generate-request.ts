import { inference } from '@troupe/contracts';

/** A GenerateRequest as a client sends it: greedy, default priority and timeout. */
export function generateRequest(model: string, messages: inference.GenerateRequest['messages'], maxNewTokens = 64): inference.GenerateRequest {
  return {
    requestId: '',
    model,
    messages,
    params: { maxNewTokens, temperature: 0, topK: 0, topP: 0, seed: 0, repetitionPenalty: 0, stop: [] },
    priority: '',
    timeoutMs: 0,
    streamIntervalMs: 0,
  };
}
