import { ByteLevelBpeTokenizer, StreamingDetokenizer } from '@troupe/tokenizer';
import type { CausalLmSequence, CausalLmSession } from './causal-lm.session';
import type { DoneEvent, FinishReason, GenerateRequest, GenerationEvent } from './generation.types';
import { SeededRandom, sampleToken } from './sampling';

interface Sequence {
  key: number;
  req: GenerateRequest;
  prompt: number[];
  truncated: number;
  maxNew: number;
  stop: Set<number>;
  rng: SeededRandom;
  detok: StreamingDetokenizer;
  seq?: CausalLmSequence;
  lastToken?: number;
  generated: number;
  cancelled: boolean;
}

/** `key` is the submitter's handle for the request (unique among live requests). */
export type EmitFn = (key: number, event: GenerationEvent) => void;

/**
 * Runs many generations on one session, one model step at a time, round-robin, so concurrent
 * requests all make progress and a cancel takes effect at the next step. Between steps it
 * yields to the event loop so cancel/generate messages are seen promptly.
 */
export class GenerationEngine {
  private readonly running: Sequence[] = [];
  private readonly waiting: Sequence[] = [];
  private readonly byKey = new Map<number, Sequence>();
  private looping = false;
  private stopped = false;

  constructor(
    private readonly session: CausalLmSession,
    private readonly tokenizer: ByteLevelBpeTokenizer,
    private readonly emit: EmitFn,
    /** Sequences holding a KV cache at once; the rest wait (bounds memory). */
    private readonly maxActive = 8,
  ) {}

  submit(key: number, req: GenerateRequest): void {
    if (this.stopped) return this.emit(key, done('cancelled', 0, 0, 'engine shutting down'));
    if (this.byKey.has(key)) return this.emit(key, done('error', 0, 0, `duplicate request key ${key}`));
    const problem = this.validate(req);
    if (problem) return this.emit(key, done('error', 0, 0, problem));

    const ctx = this.session.manifest.contextLength;
    // Need room for at least one prompt token.
    const maxNew = Math.min(req.maxNewTokens, ctx - 1);
    const room = ctx - maxNew;
    const truncated = Math.max(0, req.promptTokenIds.length - room);
    const s: Sequence = {
      key,
      req,
      prompt: truncated > 0 ? req.promptTokenIds.slice(truncated) : req.promptTokenIds.slice(),
      truncated,
      maxNew,
      stop: new Set(req.stopTokenIds),
      rng: new SeededRandom(req.seed ?? Math.floor(Math.random() * 2 ** 32)),
      detok: new StreamingDetokenizer(this.tokenizer, { skipSpecialTokens: true }),
      generated: 0,
      cancelled: false,
    };
    this.byKey.set(key, s);
    this.waiting.push(s);
    void this.loop();
  }

  cancel(key: number): void {
    const s = this.byKey.get(key);
    if (!s) return;
    s.cancelled = true;
    // Not started yet: nothing to interrupt, answer now.
    const w = this.waiting.indexOf(s);
    if (w >= 0) {
      this.waiting.splice(w, 1);
      this.finish(s, 'cancelled');
    }
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
    return undefined;
  }

  private async loop(): Promise<void> {
    if (this.looping) return;
    this.looping = true;
    try {
      for (;;) {
        while (this.running.length < this.maxActive && this.waiting.length > 0) this.running.push(this.waiting.shift() as Sequence);
        const s = this.running.shift();
        if (!s) break;
        if (await this.step(s)) this.running.push(s);
        await tick();
      }
    } finally {
      this.looping = false;
    }
  }

  /** One model run for `s`; returns true while it should keep going. */
  private async step(s: Sequence): Promise<boolean> {
    if (s.cancelled) return this.finish(s, 'cancelled');
    try {
      let logits: Float32Array;
      if (!s.seq) {
        s.seq = this.session.createSequence();
        logits = await s.seq.prefill(s.prompt);
      } else {
        logits = await s.seq.decodeStep(s.lastToken as number);
      }
      if (s.cancelled) return this.finish(s, 'cancelled');
      // Logits may be wider than the tokenizer (padded vocab); never sample an id it lacks.
      const width = Math.min(logits.length, this.tokenizer.vocabSize);
      const token = sampleToken(logits.subarray(0, width), s.req, s.rng);
      s.generated++;
      if (s.stop.has(token)) return this.finish(s, 'stop');
      this.emit(s.key, { type: 'token', tokenId: token, text: s.detok.push(token), index: s.generated - 1 });
      s.lastToken = token;
      if (s.generated >= s.maxNew || s.seq.length >= this.session.manifest.contextLength) return this.finish(s, 'length');
      return true;
    } catch (err) {
      return this.finish(s, 'error', err instanceof Error ? err.message : String(err));
    }
  }

  private finish(s: Sequence, reason: FinishReason, error?: string): false {
    s.seq?.dispose();
    s.seq = undefined;
    this.byKey.delete(s.key);
    const ev = done(reason, s.prompt.length, s.generated, error);
    if (s.truncated > 0) ev.truncatedPromptTokens = s.truncated;
    this.emit(s.key, ev);
    return false;
  }
}

function done(finishReason: FinishReason, promptTokens: number, completionTokens: number, error?: string): DoneEvent {
  const ev: DoneEvent = { type: 'done', finishReason, promptTokens, completionTokens };
  if (error !== undefined) ev.error = error;
  return ev;
}

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
