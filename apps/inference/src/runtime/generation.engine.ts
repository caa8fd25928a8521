import { ByteLevelBpeTokenizer, StreamingDetokenizer } from '@troupe/tokenizer';
import { BatchScheduler, SchedulerItem, SchedulerLimits } from './batch-scheduler';
import type { CausalLmSession, KvCache } from './causal-lm.session';
import type { BatchAdmission, DoneEvent, EngineStats, FinishReason, GenerateRequest, GenerationEvent } from './generation.types';
import { SeededRandom, applyRepetitionPenalty, sampleToken } from './sampling';
import { StopSequenceMatcher } from './stop-sequences';

interface Sequence extends SchedulerItem {
  key: number;
  req: GenerateRequest;
  prompt: number[];
  truncated: number;
  maxNew: number;
  stop: Set<number>;
  rng: SeededRandom;
  detok: StreamingDetokenizer;
  stopText: StopSequenceMatcher;
  /** Tokens the repetition penalty applies to (prompt + completion). */
  seen: Set<number>;
  cache?: KvCache;
  lastToken?: number;
  generated: number;
  cancelled: boolean;
  enqueuedAt: number;
  admittedAt?: number;
  batch?: BatchAdmission;
}

/** `key` is the submitter's handle for the request (unique among live requests). */
export type EmitFn = (key: number, event: GenerationEvent) => void;

export type EngineLimits = SchedulerLimits & {
  /** Pause after each step (ms). 0 in production; end-to-end tests pace replies with it. */
  stepDelayMs: number;
};

export const DEFAULT_ENGINE_LIMITS: Omit<EngineLimits, 'kvBytesPerToken'> = {
  maxBatchSize: 64,
  kvCacheBytes: 256 * 1024 * 1024,
  maxWaiting: 1024,
  maxPrefillTokensPerStep: 2048,
  stepDelayMs: 0,
};

/**
 * Token-level continuous batching on one session (vLLM style). Each step: drop what was
 * cancelled or missed its deadline, admit waiting sequences that fit (scheduler), prefill
 * them, then decode every running sequence together in ONE batched run. Sequences join and
 * leave between steps; a leaving sequence drops its KV cache at once. Sampling uses each
 * sequence's own seeded PRNG, so its tokens do not depend on its batch companions.
 */
export class GenerationEngine {
  private readonly scheduler: BatchScheduler<Sequence>;
  private readonly byKey = new Map<number, Sequence>();
  private looping = false;
  private stopped = false;
  private lastBatchSize = 0;
  private steps = 0;
  private readonly stepDelayMs: number;

  constructor(
    private readonly session: CausalLmSession,
    private readonly tokenizer: ByteLevelBpeTokenizer,
    private readonly emit: EmitFn,
    limits: Partial<Omit<EngineLimits, 'kvBytesPerToken'>> = {},
    /** Called after every step with the batch state (for metrics). */
    private readonly onStep: (stats: EngineStats) => void = () => undefined,
    private readonly now: () => number = Date.now,
  ) {
    const { stepDelayMs, ...schedulerLimits } = { ...DEFAULT_ENGINE_LIMITS, ...limits };
    this.stepDelayMs = stepDelayMs;
    this.scheduler = new BatchScheduler<Sequence>({ ...schedulerLimits, kvBytesPerToken: session.kvBytesPerToken });
  }

  submit(key: number, req: GenerateRequest): void {
    if (this.enqueue(key, req)) void this.loop();
  }

  /**
   * Requests that arrived together (a burst the main thread sent in one message): all are
   * queued before the next step, so they are admitted, prefilled in one run and decoded as one
   * cohort rather than joining the batch one step apart, each at its own length.
   */
  submitAll(requests: readonly { key: number; request: GenerateRequest }[]): void {
    let queued = false;
    for (const { key, request } of requests) queued = this.enqueue(key, request) || queued;
    if (queued) void this.loop();
  }

  /** Validates and queues a request (true), or answers it at once (false). */
  private enqueue(key: number, req: GenerateRequest): boolean {
    if (this.stopped) return this.reject(key, done('cancelled', 0, 0, 'engine shutting down'));
    if (this.byKey.has(key)) return this.reject(key, done('error', 0, 0, `duplicate request key ${key}`));
    const problem = this.validate(req);
    if (problem) return this.reject(key, done('error', 0, 0, problem));

    const ctx = this.session.manifest.contextLength;
    // Need room for at least one prompt token.
    const maxNew = Math.min(req.maxNewTokens, ctx - 1);
    const room = ctx - maxNew;
    const truncated = Math.max(0, req.promptTokenIds.length - room);
    const prompt = truncated > 0 ? req.promptTokenIds.slice(truncated) : req.promptTokenIds.slice();
    const s: Sequence = {
      key,
      req,
      prompt,
      truncated,
      maxNew,
      priority: req.priority ?? 'interactive',
      deadlineAt: req.deadlineAt,
      reservedTokens: prompt.length + maxNew,
      promptTokens: prompt.length,
      stop: new Set(req.stopTokenIds),
      rng: new SeededRandom(req.seed ?? Math.floor(Math.random() * 2 ** 32)),
      detok: new StreamingDetokenizer(this.tokenizer, { skipSpecialTokens: true }),
      stopText: new StopSequenceMatcher(req.stopSequences ?? []),
      seen: new Set(req.repetitionPenalty && req.repetitionPenalty > 1 ? prompt : []),
      generated: 0,
      cancelled: false,
      enqueuedAt: this.now(),
    };
    const outcome = this.scheduler.enqueue(s);
    if (outcome !== 'queued') {
      const why =
        outcome === 'queue-full'
          ? `queue full (${this.scheduler.limits.maxWaiting} waiting)`
          : `request needs ${s.reservedTokens} KV tokens, more than the cache budget of ${this.scheduler.limits.kvCacheBytes} bytes`;
      return this.reject(key, done('rejected', prompt.length, 0, why));
    }
    this.byKey.set(key, s);
    return true;
  }

  private reject(key: number, event: DoneEvent): false {
    this.emit(key, event);
    return false;
  }

  /** Marks a request cancelled; a waiting one ends now, a running one leaves at the next step. */
  cancel(key: number): void {
    const s = this.byKey.get(key);
    if (!s) return;
    s.cancelled = true;
    if (s.admittedAt === undefined) this.finish(s, 'cancelled');
  }

  /** Cancels everything and waits for the current step to end. */
  async shutdown(): Promise<void> {
    this.stopped = true;
    for (const key of [...this.byKey.keys()]) this.cancel(key);
    while (this.looping) await tick();
  }

  get activeCount(): number {
    return this.byKey.size;
  }

  stats(): EngineStats {
    const running = this.scheduler.running;
    let kvBytes = 0;
    const counted = new Set<object>();
    for (const s of running) {
      const past = s.cache?.past;
      if (!past || counted.has(past)) continue;
      counted.add(past);
      for (const t of Object.values(past)) kvBytes += t.size * 4;
    }
    return {
      running: running.length,
      waiting: this.scheduler.waitingCount,
      batchSize: this.lastBatchSize,
      kvCacheBytes: kvBytes,
      kvCacheBudgetBytes: this.scheduler.limits.kvCacheBytes,
      steps: this.steps,
    };
  }

  private validate(r: GenerateRequest): string | undefined {
    const vocab = this.tokenizer.vocabSize;
    if (!r || typeof r.requestId !== 'string' || r.requestId === '') return 'requestId must be a non-empty string';
    if (!Array.isArray(r.promptTokenIds) || r.promptTokenIds.length === 0) return 'promptTokenIds must be a non-empty array';
    if (!r.promptTokenIds.every((t) => Number.isInteger(t) && t >= 0 && t < vocab)) return `promptTokenIds must be integers in [0, ${vocab})`;
    if (!Number.isInteger(r.maxNewTokens) || r.maxNewTokens < 1) return 'maxNewTokens must be a positive integer';
    if (!Number.isFinite(r.temperature) || r.temperature < 0) return 'temperature must be >= 0';
    if (!Number.isInteger(r.topK) || r.topK < 0) return 'topK must be an integer >= 0';
    if (!Number.isFinite(r.topP) || r.topP <= 0 || r.topP > 1) return 'topP must be in (0, 1]';
    if (!Array.isArray(r.stopTokenIds) || !r.stopTokenIds.every(Number.isInteger)) return 'stopTokenIds must be an array of integers';
    if (r.seed !== undefined && !Number.isFinite(r.seed)) return 'seed must be a finite number';
    if (r.repetitionPenalty !== undefined && !(Number.isFinite(r.repetitionPenalty) && r.repetitionPenalty >= 0)) return 'repetitionPenalty must be >= 0';
    if (r.stopSequences !== undefined && !(Array.isArray(r.stopSequences) && r.stopSequences.every((x) => typeof x === 'string' && x.length > 0))) {
      return 'stopSequences must be an array of non-empty strings';
    }
    if (r.priority !== undefined && r.priority !== 'interactive' && r.priority !== 'bulk') return 'priority must be "interactive" or "bulk"';
    if (r.deadlineAt !== undefined && !Number.isFinite(r.deadlineAt)) return 'deadlineAt must be a finite number';
    return undefined;
  }

  private async loop(): Promise<void> {
    if (this.looping) return;
    this.looping = true;
    try {
      while (this.scheduler.running.length > 0 || this.scheduler.waitingCount > 0) {
        await this.step();
        this.onStep(this.stats());
        await (this.stepDelayMs > 0 ? sleep(this.stepDelayMs) : tick());
      }
    } finally {
      this.looping = false;
      this.lastBatchSize = 0;
      this.onStep(this.stats());
    }
  }

  private async step(): Promise<void> {
    const now = this.now();
    for (const s of this.scheduler.expireWaiting(now)) this.finish(s, 'deadline', 'deadline passed while queued');
    for (const s of this.scheduler.overdueRunning(now)) this.finish(s, 'deadline', 'deadline passed during generation');
    for (const s of [...this.scheduler.running]) if (s.cancelled) this.finish(s, 'cancelled');

    const admitted = this.scheduler.admit();
    if (admitted.length > 0) await this.prefill(admitted);

    const batch = this.scheduler.running.filter((s) => s.lastToken !== undefined && s.cache);
    this.lastBatchSize = batch.length;
    if (batch.length === 0) return;
    this.steps++;
    let logits: Float32Array[];
    try {
      logits = await this.session.decodeBatch(
        batch.map((s) => s.cache as KvCache),
        batch.map((s) => s.lastToken as number),
      );
    } catch (err) {
      for (const s of batch) this.finish(s, 'error', err instanceof Error ? err.message : String(err));
      return;
    }
    batch.forEach((s, i) => {
      if (s.cancelled) this.finish(s, 'cancelled');
      else if (this.byKey.has(s.key)) this.accept(s, logits[i]);
    });
  }

  /** Prefills newly admitted sequences together in one padded run; each gets its first token. */
  private async prefill(admitted: Sequence[]): Promise<void> {
    const now = this.now();
    const fresh: Sequence[] = [];
    for (const s of admitted) {
      s.admittedAt = now;
      if (s.cancelled) this.finish(s, 'cancelled');
      else fresh.push(s);
    }
    if (fresh.length === 0) return;
    for (const s of fresh) s.cache = this.session.createSequence().cache;
    let logits: Float32Array[];
    try {
      logits = await this.session.prefillBatch(
        fresh.map((s) => s.cache as KvCache),
        fresh.map((s) => s.prompt),
      );
      const batch: BatchAdmission = { joinedSize: this.scheduler.running.length, prefillSize: fresh.length, prefillMs: this.now() - now };
      for (const s of fresh) s.batch = batch;
    } catch (err) {
      for (const s of fresh) this.finish(s, 'error', err instanceof Error ? err.message : String(err));
      return;
    }
    fresh.forEach((s, i) => {
      if (s.cancelled) this.finish(s, 'cancelled');
      else if (this.byKey.has(s.key)) this.accept(s, logits[i]);
    });
  }

  /** Samples the next token from `logits`, streams it, and ends the sequence when it is done. */
  private accept(s: Sequence, logits: Float32Array): void {
    // Logits may be wider than the tokenizer (padded vocab); never sample an id it lacks.
    const scores = logits.subarray(0, Math.min(logits.length, this.tokenizer.vocabSize));
    applyRepetitionPenalty(scores, s.seen, s.req.repetitionPenalty ?? 1);
    const token = sampleToken(scores, s.req, s.rng);
    s.generated++;
    if ((s.req.repetitionPenalty ?? 1) > 1) s.seen.add(token);
    const index = s.generated - 1;
    if (s.stop.has(token)) {
      // Held-back text was not a stop string after all: it rides on the stop token's event.
      const tail = s.stopText.flush();
      if (tail) this.emit(s.key, { type: 'token', tokenIds: [token], text: tail, index });
      return void this.finish(s, 'stop');
    }
    const { text, stopped } = s.stopText.push(s.detok.push(token));
    const last = s.generated >= s.maxNew || (s.cache as KvCache).length >= this.session.manifest.contextLength;
    this.emit(s.key, { type: 'token', tokenIds: [token], text: last && !stopped ? text + s.stopText.flush() : text, index });
    if (stopped) return void this.finish(s, 'stop');
    if (last) return void this.finish(s, 'length');
    s.lastToken = token;
  }

  private finish(s: Sequence, reason: FinishReason, error?: string): void {
    this.scheduler.remove(s);
    s.cache?.dispose();
    s.cache = undefined;
    this.byKey.delete(s.key);
    const ev = done(reason, s.prompt.length, s.generated, error);
    if (s.truncated > 0) ev.truncatedPromptTokens = s.truncated;
    ev.queueMs = (s.admittedAt ?? this.now()) - s.enqueuedAt;
    if (s.batch) ev.batch = s.batch;
    this.emit(s.key, ev);
  }
}

function done(finishReason: FinishReason, promptTokens: number, completionTokens: number, error?: string): DoneEvent {
  const ev: DoneEvent = { type: 'done', finishReason, promptTokens, completionTokens };
  if (error !== undefined) ev.error = error;
  return ev;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
