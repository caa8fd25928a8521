import { status } from '@grpc/grpc-js';
import { UpstreamError } from './upstream-error';

/**
 * Splits a server-sent-events byte stream into the `data` payload of each event. Events end
 * with a blank line; `data:` lines of one event are joined with "\n"; comments and other
 * fields (`event:`, `id:`) are ignored, as the OpenAI wire format never needs them.
 */
export class SseDecoder {
  private readonly text = new TextDecoder();
  private buffer = '';

  push(bytes: Uint8Array): string[] {
    this.buffer += this.text.decode(bytes, { stream: true });
    const payloads: string[] = [];
    for (;;) {
      const end = /\r?\n\r?\n/.exec(this.buffer);
      if (!end) break;
      const block = this.buffer.slice(0, end.index);
      this.buffer = this.buffer.slice(end.index + end[0].length);
      const data = block
        .split(/\r?\n/)
        .filter((line) => line.startsWith('data:'))
        .map((line) => line.slice(5).replace(/^ /, ''));
      if (data.length > 0) payloads.push(data.join('\n'));
    }
    return payloads;
  }
}

/** What one chat-completion chunk adds to the reply. */
export interface StreamStep {
  /** Text to stream to the client ('' when the chunk has none). */
  text: string;
  finished: boolean;
}

export interface StreamResult {
  finishReason: 'stop' | 'length';
  promptTokens?: number;
  completionTokens?: number;
}

interface ToolCallDraft {
  name: string;
  arguments: string;
}

/**
 * Folds `chat.completion.chunk` objects into reply text: content deltas pass through; tool-call
 * deltas (name and argument fragments, keyed by index) are collected and written out once
 * the choice finishes, as the `<tool_call>{"name":…,"arguments":…}</tool_call>` text the
 * director parses for local models too. An `error` object inside the stream fails it.
 */
export class ChatCompletionAccumulator {
  private readonly toolCalls = new Map<number, ToolCallDraft>();
  private finishReason?: string;
  private usage?: { prompt_tokens?: number; completion_tokens?: number };

  get finished(): boolean {
    return this.finishReason !== undefined;
  }

  push(payload: string): StreamStep {
    let chunk: ChatCompletionChunk;
    try {
      chunk = JSON.parse(payload) as ChatCompletionChunk;
    } catch {
      throw new UpstreamError(status.UNAVAILABLE, `upstream sent a stream chunk that is not JSON: ${payload.slice(0, 200)}`);
    }
    // OpenAI sends `{"error":{…}}` inside a failing stream; vLLM sends `{"object":"error","message":…}`.
    if (chunk.error || chunk.object === 'error') {
      const err = chunk.error ?? { message: chunk.message };
      const message = typeof err === 'string' ? err : (err.message ?? JSON.stringify(err));
      throw new UpstreamError(status.UNAVAILABLE, `upstream error in stream: ${message}`);
    }
    if (chunk.usage) this.usage = chunk.usage;
    const choice = chunk.choices?.[0];
    let text = typeof choice?.delta?.content === 'string' ? choice.delta.content : '';
    for (const call of choice?.delta?.tool_calls ?? []) {
      const index = typeof call.index === 'number' ? call.index : this.toolCalls.size;
      const draft = this.toolCalls.get(index) ?? { name: '', arguments: '' };
      if (typeof call.function?.name === 'string') draft.name += call.function.name;
      if (typeof call.function?.arguments === 'string') draft.arguments += call.function.arguments;
      this.toolCalls.set(index, draft);
    }
    if (choice?.finish_reason) {
      this.finishReason = choice.finish_reason;
      text += this.flushToolCalls();
    }
    return { text, finished: this.finished };
  }

  /** The outcome once the stream ended with `[DONE]`; tool calls never closed by a finish reason are written out first. */
  end(): { trailingText: string; result: StreamResult } {
    return {
      trailingText: this.flushToolCalls(),
      result: {
        finishReason: this.finishReason === 'length' ? 'length' : 'stop',
        promptTokens: this.usage?.prompt_tokens,
        completionTokens: this.usage?.completion_tokens,
      },
    };
  }

  private flushToolCalls(): string {
    const text = [...this.toolCalls.entries()]
      .sort(([a], [b]) => a - b)
      .map(([, call]) => `<tool_call>${JSON.stringify({ name: call.name, arguments: parseArguments(call.arguments) })}</tool_call>`)
      .join('');
    this.toolCalls.clear();
    return text;
  }
}

/** Arguments arrive as a JSON string; kept as the raw string when it does not parse (the director then reports a malformed call). */
function parseArguments(raw: string): unknown {
  if (raw.trim() === '') return {};
  try {
    return JSON.parse(raw);
  } catch {
    return raw;
  }
}

interface ChatCompletionChunk {
  choices?: {
    delta?: {
      content?: string | null;
      tool_calls?: { index?: number; function?: { name?: string; arguments?: string } }[];
    };
    finish_reason?: string | null;
  }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string } | string;
  object?: string;
  message?: string;
}
