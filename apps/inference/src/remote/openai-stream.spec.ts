import { status } from '@grpc/grpc-js';
import { ChatCompletionAccumulator, SseDecoder } from './openai-stream';
import { UpstreamError, grpcStatusForHttp, parseRetryAfter, upstreamHttpError } from './upstream-error';

const bytes = (s: string) => new TextEncoder().encode(s);
const chunk = (delta: object, finish: string | null = null) => JSON.stringify({ object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] });

describe('SseDecoder', () => {
  it('yields one payload per event, whatever the byte boundaries (split lines, CRLF, multi-byte characters)', () => {
    const d = new SseDecoder();
    const all = bytes(': keep-alive\n\ndata: {"a":1}\r\n\r\ndata: h\u00e9\n\nevent: x\ndata: [DONE]\n\n');
    const out: string[] = [];
    for (let i = 0; i < all.length; i += 3) out.push(...d.push(all.slice(i, i + 3)));
    expect(out).toEqual(['{"a":1}', 'h\u00e9', '[DONE]']);
  });

  it('joins the data lines of one event', () => {
    expect(new SseDecoder().push(bytes('data: a\ndata: b\n\n'))).toEqual(['a\nb']);
  });
});

describe('ChatCompletionAccumulator', () => {
  it('passes content deltas through and reads finish reason and usage', () => {
    const acc = new ChatCompletionAccumulator();
    expect(acc.push(chunk({ role: 'assistant', content: '' })).text).toBe('');
    expect(acc.push(chunk({ content: 'Hel' })).text).toBe('Hel');
    expect(acc.push(chunk({ content: 'lo' }, 'length'))).toEqual({ text: 'lo', finished: true });
    acc.push(JSON.stringify({ choices: [], usage: { prompt_tokens: 7, completion_tokens: 2 } }));
    expect(acc.end()).toEqual({ trailingText: '', result: { finishReason: 'length', promptTokens: 7, completionTokens: 2 } });
  });

  it('assembles tool-call deltas into the <tool_call> text the director parses', () => {
    const acc = new ChatCompletionAccumulator();
    const call = (index: number, fn: object, extra: object = {}) => chunk({ tool_calls: [{ index, ...extra, function: fn }] });
    expect(acc.push(call(0, { name: 'calculator', arguments: '' }, { id: 'call_1', type: 'function' })).text).toBe('');
    acc.push(call(0, { arguments: '{"expression":' }));
    acc.push(call(1, { name: 'announce', arguments: '{"text":"hi"}' }, { id: 'call_2', type: 'function' }));
    acc.push(call(0, { arguments: ' "2 + 2"}' }));
    const last = acc.push(chunk({}, 'tool_calls'));
    expect(last.text).toBe(
      '<tool_call>{"name":"calculator","arguments":{"expression":"2 + 2"}}</tool_call><tool_call>{"name":"announce","arguments":{"text":"hi"}}</tool_call>',
    );
    expect(acc.end().result.finishReason).toBe('stop');
  });

  it('keeps unparsable arguments as their raw string', () => {
    const acc = new ChatCompletionAccumulator();
    acc.push(chunk({ tool_calls: [{ index: 0, function: { name: 'f', arguments: '{"x":' } }] }));
    expect(acc.end().trailingText).toBe('<tool_call>{"name":"f","arguments":"{\\"x\\":"}</tool_call>');
  });

  it('fails on an error object inside the stream and on a chunk that is not JSON', () => {
    const acc = new ChatCompletionAccumulator();
    expect(() => acc.push(JSON.stringify({ error: { message: 'model overloaded' } }))).toThrow(/model overloaded/);
    expect(() => acc.push('{oops')).toThrow(UpstreamError);
    expect(() => acc.push(JSON.stringify({ object: 'error', message: 'prompt too long', type: 'BadRequestError', code: 400 }))).toThrow(/prompt too long/);
  });
});

describe('upstream errors', () => {
  it('maps HTTP statuses to gRPC statuses', () => {
    expect(grpcStatusForHttp(401)).toBe(status.UNAUTHENTICATED);
    expect(grpcStatusForHttp(404)).toBe(status.NOT_FOUND);
    expect(grpcStatusForHttp(429)).toBe(status.RESOURCE_EXHAUSTED);
    expect(grpcStatusForHttp(500)).toBe(status.UNAVAILABLE);
    expect(grpcStatusForHttp(503)).toBe(status.UNAVAILABLE);
    expect(grpcStatusForHttp(418)).toBe(status.UNKNOWN);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('2')).toBe(2000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4_000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });

  it('carries the upstream message and the wait of a 429', () => {
    const e = upstreamHttpError(429, JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests' } }), '3');
    expect(e.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(e.retryAfterMs).toBe(3000);
    expect(e.message).toBe('upstream HTTP 429: Rate limit reached (retry after 3s)');
    expect(upstreamHttpError(502, 'Bad Gateway', null).message).toBe('upstream HTTP 502: Bad Gateway');
  });
});
