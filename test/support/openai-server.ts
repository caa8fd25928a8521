import { IncomingMessage, Server, ServerResponse, createServer } from 'node:http';
import type { Socket } from 'node:net';

/** How the next request(s) should go wrong. */
export type Failure =
  | { kind: 'status'; status: number; message: string; retryAfter?: string }
  /** Sends `chunks` content chunks, then drops the connection (no `[DONE]`). */
  | { kind: 'break'; chunks: number }
  /** Sends `chunks` content chunks, then goes silent (the client's idle timeout must fire). */
  | { kind: 'stall'; chunks: number }
  /** Never answers (the client's connect timeout must fire). */
  | { kind: 'hang' };

export interface RecordedRequest {
  authorization?: string;
  /** W3C trace context the caller sent (when its tracing is on). */
  traceparent?: string;
  body: {
    model: string;
    messages: { role: string; content: string }[];
    stream?: boolean;
    stream_options?: { include_usage?: boolean };
    max_tokens?: number;
    temperature?: number;
    stop?: string[];
  };
}

/**
 * A small OpenAI-compatible server for tests, on the real wire format: `POST /v1/chat/completions`
 * with `stream: true` answers `data: {chat.completion.chunk}\n\n` events — a role chunk,
 * content deltas, a finish chunk, a usage chunk when `stream_options.include_usage` — then
 * `data: [DONE]`. A last user message containing "calculate" is answered with a tool call
 * whose name and arguments arrive in fragments. Errors use OpenAI's `{"error":{…}}` body.
 * Failures are injected on demand (failNext / failAlways).
 */
export class OpenAiTestServer {
  readonly requests: RecordedRequest[] = [];
  /** Streams the client closed before the server ended them (a cancelled generation). */
  abortedStreams = 0;
  private readonly failures: Failure[] = [];
  private always?: Failure;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
    private readonly options: { apiKey: string; models: string[]; reply: string; paceMs: number },
  ) {}

  static async start(options: { apiKey: string; models: string[]; reply?: string; paceMs?: number }): Promise<OpenAiTestServer> {
    let self: OpenAiTestServer | undefined;
    const server = createServer((req, res) => void self?.handle(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    self = new OpenAiTestServer(server, (server.address() as { port: number }).port, {
      reply: 'Hello from upstream. How can I help?',
      paceMs: 2,
      ...options,
    });
    server.on('connection', (s) => {
      self?.sockets.add(s);
      s.on('close', () => self?.sockets.delete(s));
    });
    return self;
  }

  /** The base URL as manifests name it (OpenAI clients' convention: with `/v1`). */
  get baseUrl(): string {
    return `http://127.0.0.1:${this.port}/v1`;
  }

  failNext(failure: Failure, times = 1): void {
    for (let i = 0; i < times; i++) this.failures.push(failure);
  }

  failAlways(failure: Failure | undefined): void {
    this.always = failure;
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const raw: Buffer[] = [];
    for await (const part of req) raw.push(part as Buffer);
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return this.error(res, 404, `Unknown request URL: ${req.method} ${req.url}`, 'invalid_request_error');
    let body: RecordedRequest['body'];
    try {
      body = JSON.parse(Buffer.concat(raw).toString('utf8'));
    } catch {
      return this.error(res, 400, 'We could not parse the JSON body of your request.', 'invalid_request_error');
    }
    this.requests.push({ authorization: req.headers.authorization, traceparent: req.headers.traceparent as string | undefined, body });
    if (req.headers.authorization !== `Bearer ${this.options.apiKey}`) {
      return this.error(res, 401, 'Incorrect API key provided: sk-wr***ey.', 'invalid_request_error', 'invalid_api_key');
    }
    if (!this.options.models.includes(body.model)) {
      return this.error(res, 404, `The model \`${body.model}\` does not exist or you do not have access to it.`, 'invalid_request_error', 'model_not_found');
    }
    const failure = this.failures.shift() ?? this.always;
    if (failure?.kind === 'status') {
      return this.error(res, failure.status, failure.message, failure.status === 429 ? 'requests' : 'server_error', null, failure.retryAfter);
    }
    if (failure?.kind === 'hang') return; // the socket stays open, silent
    await this.stream(res, body, failure);
  }

  private async stream(res: ServerResponse, body: RecordedRequest['body'], failure?: Failure): Promise<void> {
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.on('close', () => {
      if (!res.writableEnded) this.abortedStreams++;
    });
    const id = `chatcmpl-${Math.random().toString(36).slice(2)}`;
    const created = Math.floor(Date.now() / 1000);
    const send = async (choices: object[], extra: object = {}) => {
      res.write(`data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: body.model, system_fingerprint: 'fp_test', choices, ...extra })}\n\n`);
      await new Promise((r) => setTimeout(r, this.options.paceMs));
    };
    const lastUser = [...body.messages].reverse().find((m) => m.role === 'user')?.content ?? '';
    const toolCall = lastUser.toLowerCase().includes('calculate');
    const pieces = toolCall ? [] : this.options.reply.split(/(?<= )/).slice(0, body.max_tokens ?? Infinity);
    await send([{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }]);
    let sent = 0;
    for (const piece of pieces) {
      if ((failure?.kind === 'break' || failure?.kind === 'stall') && sent === failure.chunks) break;
      await send([{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }]);
      sent++;
    }
    if (failure?.kind === 'break') return void res.socket?.destroy();
    if (failure?.kind === 'stall') return; // headers and some chunks sent; then nothing
    if (toolCall) {
      const call = (delta: object) => send([{ index: 0, delta: { tool_calls: [{ index: 0, ...delta }] }, logprobs: null, finish_reason: null }]);
      await call({ id: 'call_abc123', type: 'function', function: { name: 'calculator', arguments: '' } });
      for (const fragment of ['{"expr', 'ession": "', '2 + 2"}']) await call({ function: { arguments: fragment } });
    }
    const finish = toolCall ? 'tool_calls' : pieces.length < this.options.reply.split(/(?<= )/).length ? 'length' : 'stop';
    await send([{ index: 0, delta: {}, logprobs: null, finish_reason: finish }]);
    if (body.stream_options?.include_usage) {
      const promptTokens = body.messages.reduce((n, m) => n + m.content.split(/\s+/).length + 4, 0);
      await send([], { usage: { prompt_tokens: promptTokens, completion_tokens: toolCall ? 12 : sent, total_tokens: promptTokens + (toolCall ? 12 : sent) } });
    }
    res.end('data: [DONE]\n\n');
  }

  private error(res: ServerResponse, status: number, message: string, type: string, code: string | null = null, retryAfter?: string): void {
    res.writeHead(status, { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) });
    res.end(JSON.stringify({ error: { message, type, param: null, code } }));
  }
}
