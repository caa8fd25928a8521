import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { startModelWorker } from './worker-thread';
import { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import { CausalLmManifest, loadCausalLmManifest } from './causal-lm-manifest';
import { forEachDelta } from './token-deltas';
import type { FromWorker, GenerationWorkerData, ToWorker } from './generation-worker.protocol';
import type { ExecutionProviderStatus } from './causal-lm.session';
import type { EngineLimits } from './generation.engine';
import type { DoneEvent, EngineStats, GenerateRequest, GenerationEvent } from './generation.types';

export interface GenerationWorkerOptions {
  /** onnxruntime intra-op threads in the worker; defaults to manifest.threads. */
  intraOpThreads?: number;
  /** Batch bounds in the worker (max batch size, KV budget, queue bound, prefill budget). */
  limits?: Partial<Omit<EngineLimits, 'kvBytesPerToken'>>;
  /** Execution providers in order of preference; CPU is the fallback. */
  executionProviders?: string[];
  /** How long model loading may take. Default 120 s. */
  startTimeoutMs?: number;
  /** Longest a decoded token waits to be streamed together with later ones (default 0: every step). */
  streamIntervalMs?: number;
}

export type StatsListener = (stats: EngineStats, batchSizes: readonly number[]) => void;

/** Receives one request's events as the worker sends them. */
export interface GenerationSink {
  push(e: GenerationEvent): void;
  /** The worker died: no more events will come. */
  fail(err: Error): void;
}

/** Unbounded async queue of one request's events; fails all waiters when the worker dies. */
class EventStream implements GenerationSink {
  private readonly items: GenerationEvent[] = [];
  private waiter?: { resolve: (e: GenerationEvent) => void; reject: (err: Error) => void };
  private failure?: Error;

  push(e: GenerationEvent): void {
    if (this.waiter) {
      const w = this.waiter;
      this.waiter = undefined;
      w.resolve(e);
    } else this.items.push(e);
  }

  fail(err: Error): void {
    this.failure = err;
    const w = this.waiter;
    this.waiter = undefined;
    w?.reject(err);
  }

  next(): Promise<GenerationEvent> {
    const item = this.items.shift();
    if (item) return Promise.resolve(item);
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }
}

/**
 * Main-thread side of a generation worker: the model runs in a worker thread (onnxruntime's
 * run() would block the event loop); this class sends requests and streams events back.
 */
export class GenerationWorkerClient {
  /** Open streams by per-call key (see generation-worker.protocol.ts). */
  private readonly streams = new Map<number, GenerationSink>();
  private nextKey = 1;
  private failure?: Error;
  private closing?: Promise<void>;
  private exited = false;
  private latestStats?: EngineStats;
  private readonly statsListeners = new Set<StatsListener>();
  private outbox: ToWorker[] = [];

  private constructor(
    readonly modelDir: string,
    /** The model's manifest (validated). */
    readonly manifest: CausalLmManifest,
    /** Main-thread tokenizer, for prompt encoding and token counting. */
    readonly tokenizer: ByteLevelBpeTokenizer,
    private readonly worker: Worker,
    /** Where the model runs (and why not where asked, after a fallback). */
    readonly executionProvider: ExecutionProviderStatus,
  ) {
    worker.on('message', (m: FromWorker) => {
      if (m.type !== 'events') return;
      forEachDelta(m.deltas, (key, event) => this.streams.get(key)?.push(event));
      for (const { key, event } of m.dones) this.streams.get(key)?.push(event);
      if (m.stats) {
        this.latestStats = m.stats;
        for (const listener of this.statsListeners) listener(m.stats, m.batchSizes);
      }
    });
    worker.on('error', (err) => {
      this.failure ??= new Error(`generation worker crashed: ${err.message}`);
    });
    worker.on('exit', (code) => {
      this.exited = true;
      if (this.closing) {
        // Deliberate close: anything still open ends as cancelled.
        for (const s of this.streams.values()) s.push({ type: 'done', finishReason: 'cancelled', promptTokens: 0, completionTokens: 0, error: 'worker closed' });
        return;
      }
      this.failure ??= new Error(`generation worker exited unexpectedly (exit code ${code})`);
      for (const s of this.streams.values()) s.fail(this.failure);
    });
  }

  /** Loads manifest + tokenizer here (fast, clear errors), then the model in a worker thread. */
  static async start(modelDir: string, opts: GenerationWorkerOptions = {}): Promise<GenerationWorkerClient> {
    const manifest = loadCausalLmManifest(modelDir);
    const tokenizerPath = join(modelDir, manifest.files.tokenizer);
    let tokenizer: ByteLevelBpeTokenizer;
    try {
      tokenizer = ByteLevelBpeTokenizer.fromFile(tokenizerPath);
    } catch (err) {
      throw new Error(`model ${modelDir}: ${(err as Error).message}`);
    }
    if (tokenizer.vocabSize > manifest.vocabSize) {
      throw new Error(`model ${modelDir}: tokenizer has ${tokenizer.vocabSize} ids but manifest vocabSize is ${manifest.vocabSize}`);
    }

    const data: GenerationWorkerData = {
      modelDir,
      intraOpThreads: opts.intraOpThreads,
      executionProviders: opts.executionProviders,
      limits: opts.limits,
      streamIntervalMs: opts.streamIntervalMs,
    };
    const { worker, executionProvider } = await startModelWorker('generation.worker', data, modelDir, opts.startTimeoutMs);
    return new GenerationWorkerClient(modelDir, manifest, tokenizer, worker, executionProvider);
  }

  /** The worker's batch state after its last step (undefined before the first). */
  get stats(): EngineStats | undefined {
    return this.latestStats;
  }

  /** Calls `listener` with the worker's stats and the decode batch sizes since the last call. */
  onStats(listener: StatsListener): () => void {
    this.statsListeners.add(listener);
    return () => this.statsListeners.delete(listener);
  }

  /** Requests this client still streams. */
  get openStreams(): number {
    return this.streams.size;
  }

  /**
   * Streams a generation: token deltas, then exactly one done event. Aborting `signal` (or
   * stopping iteration early) cancels the request in the worker at its next decode step.
   * Throws if the worker has crashed or the client is closed.
   */
  async *generate(req: GenerateRequest, signal?: AbortSignal): AsyncGenerator<GenerationEvent, void, undefined> {
    if (signal?.aborted) {
      yield { type: 'done', finishReason: 'cancelled', promptTokens: 0, completionTokens: 0 } satisfies DoneEvent;
      return;
    }
    const stream = new EventStream();
    const cancel = this.submit(req, stream);
    signal?.addEventListener('abort', cancel, { once: true });
    let finished = false;
    try {
      for (;;) {
        const ev = await stream.next();
        if (ev.type === 'done') finished = true;
        yield ev;
        if (finished) return;
      }
    } finally {
      signal?.removeEventListener('abort', cancel);
      // Consumer stopped reading early: don't keep decoding for nobody.
      if (!finished) cancel();
    }
  }

  /**
   * Push-style generation: `sink` gets every event as its worker message arrives (no promise
   * per token, which matters on the hot path). Returns a cancel function (idempotent; a no-op
   * once done arrived; the sink still gets the final 'cancelled' done event). Throws if the worker has crashed or the client is closed.
   */
  submit(req: GenerateRequest, sink: GenerationSink): () => void {
    if (this.failure) throw this.failure;
    if (this.closing || this.exited) throw new Error('generation worker is closed');
    const key = this.nextKey++;
    let open = true;
    this.streams.set(key, {
      push: (e) => {
        if (e.type === 'done') {
          open = false;
          this.streams.delete(key);
        }
        sink.push(e);
      },
      fail: (err) => {
        open = false;
        this.streams.delete(key);
        sink.fail(err);
      },
    });
    this.post({ type: 'generate', key, request: req });
    let cancelled = false;
    // The worker answers a cancel with a 'cancelled' done event, which closes the stream.
    return () => {
      if (!open || cancelled) return;
      cancelled = true;
      this.post({ type: 'cancel', key });
    };
  }

  /**
   * Retires this worker: streams already open finish (a replaced model version serves what it
   * started), then the worker closes. Streams still open after `timeoutMs` are cancelled.
   */
  async drainAndClose(timeoutMs = 600_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    while (this.streams.size > 0 && !this.exited && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    await this.close();
  }

  /** Cancels running requests, frees the model and ends the worker. Idempotent. */
  close(timeoutMs = 5_000): Promise<void> {
    this.closing ??= (async () => {
      if (this.exited) return;
      const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.post({ type: 'shutdown' });
      const timer = setTimeout(() => void this.worker.terminate(), timeoutMs);
      await exited;
      clearTimeout(timer);
    })();
    return this.closing;
  }

  /**
   * Messages go to the worker once per turn of the event loop, together: a burst of requests
   * (64 calls read off one socket) reaches the engine as one batch it prefills in one run and
   * decodes as one cohort, instead of a request per engine step, each joining a batch of
   * another length (a re-merge and more padding every time).
   */
  private post(msg: ToWorker): void {
    if (this.exited) return;
    this.outbox.push(msg);
    if (this.outbox.length === 1) setImmediate(() => this.flushOutbox());
  }

  private flushOutbox(): void {
    const messages = this.outbox;
    this.outbox = [];
    if (this.exited || messages.length === 0) return;
    this.worker.postMessage(messages.length === 1 ? messages[0] : ({ type: 'batch', messages } satisfies ToWorker));
  }
}
