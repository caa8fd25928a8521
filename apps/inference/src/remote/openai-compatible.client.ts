import { status } from '@grpc/grpc-js';
import { SpanKind, injectTraceContext, recordFailure, startSpan } from '@troupe/tracing';
import type { ExecutionProviderStatus } from '../runtime/causal-lm.session';
import type { ChatMessage } from '../runtime/chat-template';
import type { GenerationSink } from '../runtime/generation-worker.client';
import type { EngineStats, FinishReason, GenerateRequest } from '../runtime/generation.types';
import { ManifestError, isObj, manifestFields, readManifestJson } from '../runtime/manifest-fields';
import type { TextModel } from '../runtime/text-model';
import { ChatCompletionAccumulator, SseDecoder } from './openai-stream';
import { UpstreamError, upstreamHttpError } from './upstream-error';

/**
 * manifest.json of an `openai-compatible` model (OpenAI, vLLM, Ollama, llama.cpp server, …):
 * { name, version, kind: "openai-compatible", baseUrl: "http://host:port/v1", model,
 *   apiKeyEnv?: "OPENAI_API_KEY", contextLength?, timeouts?: { connectMs?, idleMs? } }
 * The key is read from the named environment variable, which must be listed in
 * INFERENCE_SECRET_ENV_NAMES (the service reads those once at boot).
 */
export interface OpenAiCompatibleManifest {
  name: string;
  version: string;
  kind: 'openai-compatible';
  baseUrl: string;
  model: string;
  apiKeyEnv?: string;
  contextLength: number;
  /** connectMs: until response headers arrive; idleMs: longest silence between stream chunks. */
  timeouts: { connectMs: number; idleMs: number };
}

const KIND = 'openai-compatible';

export function parseOpenAiCompatibleManifest(json: unknown): OpenAiCompatibleManifest {
  const fail = (field: string, problem: string) => new ManifestError(KIND, field, problem);
  const { str, posInt } = manifestFields(fail);
  if (!isObj(json)) throw fail('(manifest)', 'must be an object');
  if (json.kind !== KIND) throw fail('kind', `must be "${KIND}"`);
  const baseUrl = str(json, 'baseUrl').replace(/\/+$/, '');
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw fail('baseUrl', 'must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw fail('baseUrl', 'must be an absolute http(s) URL');
  if (json.apiKeyEnv !== undefined && (typeof json.apiKeyEnv !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(json.apiKeyEnv))) {
    throw fail('apiKeyEnv', 'must be an environment variable name');
  }
  const timeouts = json.timeouts ?? {};
  if (!isObj(timeouts)) throw fail('timeouts', 'must be an object');
  const ms = (field: 'connectMs' | 'idleMs', fallback: number) => {
    const v = timeouts[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0 || v > 3_600_000) throw fail(`timeouts.${field}`, 'must be an integer 1..3600000');
    return v;
  };
  return {
    name: str(json, 'name'),
    version: String(json.version ?? '1'),
    kind: KIND,
    baseUrl,
    model: str(json, 'model'),
    apiKeyEnv: json.apiKeyEnv as string | undefined,
    contextLength: posInt(json, 'contextLength', 8192),
    timeouts: { connectMs: ms('connectMs', 10_000), idleMs: ms('idleMs', 60_000) },
  };
}

/** Looks up a secret by environment variable name; throws naming the variable when it is not allowed or unset. */
export type SecretLookup = (name: string) => string;

/**
 * A model served by an OpenAI-compatible HTTP server: each request streams
 * `POST {baseUrl}/chat/completions` (SSE) and maps its chunks to token events, its usage to
 * the done event and its failures to UpstreamErrors carrying the gRPC status to report.
 */
export class OpenAiCompatibleClient implements TextModel {
  readonly executionProvider: ExecutionProviderStatus = { requested: [], active: 'remote' };
  private readonly inFlight = new Set<AbortController>();

  private constructor(
    readonly manifest: OpenAiCompatibleManifest,
    private readonly apiKey: string | undefined,
  ) {}

  static async start(modelDir: string, secret: SecretLookup): Promise<OpenAiCompatibleClient> {
    const manifest = parseOpenAiCompatibleManifest(readManifestJson(modelDir).json);
    return new OpenAiCompatibleClient(manifest, manifest.apiKeyEnv ? secret(manifest.apiKeyEnv) : undefined);
  }

  get openStreams(): number {
    return this.inFlight.size;
  }

  /** No local batch: nothing to report. */
  onStats(_listener: (s: EngineStats, batchSizes: readonly number[]) => void): () => void {
    return () => undefined;
  }

  submit(req: GenerateRequest, sink: GenerationSink): () => void {
    // One client span per upstream exchange (a router's retries show as siblings); its context goes upstream as traceparent.
    const upstream = startSpan(`chat ${this.manifest.model}`, {
      kind: SpanKind.CLIENT,
      attributes: { 'gen_ai.operation.name': 'chat', 'gen_ai.request.model': this.manifest.model, 'server.address': new URL(this.manifest.baseUrl).host },
    });
    const abort = new AbortController();
    this.inFlight.add(abort);
    let ended = false;
    let cause: { reason: FinishReason } | UpstreamError | undefined;
    let timer: NodeJS.Timeout | undefined;
    /** Aborts the HTTP exchange, remembering why. */
    const stop = (why: { reason: FinishReason } | UpstreamError) => {
      cause ??= why;
      abort.abort();
    };
    const arm = (ms: number, what: string) => {
      clearTimeout(timer);
      const untilDeadline = req.deadlineAt === undefined ? Infinity : req.deadlineAt - Date.now();
      if (untilDeadline <= ms) timer = setTimeout(() => stop({ reason: 'deadline' }), Math.max(0, untilDeadline));
      else timer = setTimeout(() => stop(new UpstreamError(status.DEADLINE_EXCEEDED, `upstream ${what} after ${ms} ms`)), ms);
    };
    const settle = (finish: () => void, failure?: Error) => {
      if (ended) return;
      ended = true;
      clearTimeout(timer);
      this.inFlight.delete(abort);
      if (failure) recordFailure(upstream.span, failure);
      upstream.span.end();
      finish();
    };
    let index = 0;
    let streaming = false;
    const run = async () => {
      arm(this.manifest.timeouts.connectMs, 'sent no response');
      const response = await fetch(`${this.manifest.baseUrl}/chat/completions`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          ...(this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {}),
          ...injectTraceContext(upstream.context),
        },
        body: JSON.stringify(this.body(req)),
        signal: abort.signal,
      });
      if (!response.ok) throw upstreamHttpError(response.status, await response.text(), response.headers.get('retry-after'));
      if (!response.body) throw new UpstreamError(status.UNAVAILABLE, 'upstream response has no body');
      const decoder = new SseDecoder();
      const reply = new ChatCompletionAccumulator();
      const emit = (text: string) => {
        if (text && !ended) sink.push({ type: 'token', tokenIds: [0], text, index: index++ });
      };
      streaming = true;
      arm(this.manifest.timeouts.idleMs, 'stream stalled');
      for await (const bytes of response.body as unknown as AsyncIterable<Uint8Array>) {
        arm(this.manifest.timeouts.idleMs, 'stream stalled');
        for (const payload of decoder.push(bytes)) {
          if (payload === '[DONE]') {
            const { trailingText, result } = reply.end();
            emit(trailingText);
            return settle(() =>
              sink.push({
                type: 'done',
                finishReason: result.finishReason,
                promptTokens: result.promptTokens ?? 0,
                completionTokens: result.completionTokens ?? index,
                queueMs: 0,
              }),
            );
          }
          emit(reply.push(payload).text);
        }
      }
      throw new UpstreamError(status.UNAVAILABLE, `upstream stream ended before [DONE] after ${index} chunks`);
    };
    run().catch((e: unknown) => {
      const broken = streaming ? `upstream stream broke after ${index} deltas` : 'upstream unreachable';
      const reason = cause ?? (e instanceof UpstreamError ? e : new UpstreamError(status.UNAVAILABLE, `${broken}: ${describe(e)}`));
      settle(
        () => {
          if (reason instanceof UpstreamError) return sink.fail(reason);
          if (reason.reason === 'cancelled') return;
          sink.push({ type: 'done', finishReason: reason.reason, promptTokens: 0, completionTokens: index, queueMs: 0 });
        },
        reason instanceof UpstreamError ? reason : reason.reason === 'deadline' ? new Error('deadline passed') : undefined,
      );
    });
    return () => {
      stop({ reason: 'cancelled' });
      settle(() => undefined);
    };
  }

  async drainAndClose(): Promise<void> {
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 20));
  }

  async close(): Promise<void> {
    for (const a of this.inFlight) a.abort();
    this.inFlight.clear();
  }

  private body(req: GenerateRequest) {
    return {
      model: this.manifest.model,
      messages: (req.messages ?? []).map(toOpenAiMessage),
      stream: true,
      stream_options: { include_usage: true },
      max_tokens: req.maxNewTokens,
      temperature: req.temperature,
      top_p: req.topP,
      ...(req.seed !== undefined ? { seed: req.seed } : {}),
      // OpenAI accepts at most four stop sequences.
      ...(req.stopSequences?.length ? { stop: req.stopSequences.slice(0, 4) } : {}),
    };
  }
}

/** Speaker names are written into the content, as the local chat template does (OpenAI's `name` field is not portable). */
function toOpenAiMessage(m: ChatMessage): { role: string; content: string } {
  return { role: m.role, content: m.name ? `${m.name}: ${m.content}` : m.content };
}

/** fetch wraps network failures in "fetch failed"; the cause says what happened (ECONNREFUSED, …). */
function describe(e: unknown): string {
  const err = e as Error & { cause?: { code?: string; message?: string } };
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message} (${cause})` : String(err?.message ?? e);
}
