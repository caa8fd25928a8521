import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import type { ExecutionProviderStatus } from './causal-lm.session';
import { DynamicBatcher } from './dynamic-batcher';
import { EmbeddingManifest, loadEmbeddingManifest } from './embedding-manifest';
import type { EmbeddingWorkerData, FromEmbeddingWorker, ToEmbeddingWorker } from './embedding.worker';
import type { EngineStats } from './generation.types';
import { startModelWorker } from './worker-thread';

/**
 * Main-thread side of an embedding model: tokenizes, queues each text in a Triton-style
 * dynamic batcher, and has the worker thread run the batches (one in flight at a time).
 */
export class EmbeddingWorkerClient {
  private readonly batcher: DynamicBatcher<number[], Float32Array>;
  private readonly pending = new Map<number, { resolve(v: Float32Array): void; reject(e: Error): void }>();
  private readonly statsListeners = new Set<(s: EngineStats, batchSizes: readonly number[]) => void>();
  private nextId = 1;
  private inFlightRequests = 0;
  private failure?: Error;
  private closing?: Promise<void>;

  private constructor(
    readonly manifest: EmbeddingManifest,
    readonly tokenizer: ByteLevelBpeTokenizer,
    private readonly worker: Worker,
    readonly executionProvider: ExecutionProviderStatus,
  ) {
    this.batcher = new DynamicBatcher(manifest.batching, (items) => this.run(items), (size) => this.reportBatch(size));
    worker.on('message', (m: FromEmbeddingWorker) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.type === 'embedded') p.resolve(m.vectors);
      else p.reject(new Error(m.message));
    });
    worker.on('exit', (code) => {
      this.failure ??= new Error(`embedding worker exited (exit code ${code})`);
      for (const p of this.pending.values()) p.reject(this.failure);
      this.pending.clear();
    });
  }

  static async start(modelDir: string, opts: { intraOpThreads?: number; executionProviders?: string[]; startTimeoutMs?: number } = {}): Promise<EmbeddingWorkerClient> {
    const manifest = loadEmbeddingManifest(modelDir);
    let tokenizer: ByteLevelBpeTokenizer;
    try {
      tokenizer = ByteLevelBpeTokenizer.fromFile(join(modelDir, manifest.files.tokenizer));
    } catch (err) {
      throw new Error(`model ${modelDir}: ${(err as Error).message}`);
    }
    const data: EmbeddingWorkerData = { modelDir, intraOpThreads: opts.intraOpThreads, executionProviders: opts.executionProviders };
    const { worker, executionProvider } = await startModelWorker('embedding.worker', data, modelDir, opts.startTimeoutMs);
    return new EmbeddingWorkerClient(manifest, tokenizer, worker, executionProvider);
  }

  /** Requests not answered yet (a retiring version waits for them). */
  get openStreams(): number {
    return this.inFlightRequests;
  }

  /** One normalised vector per text; texts longer than the context are cut. */
  async embed(texts: readonly string[], deadlineAt?: number): Promise<Float32Array[]> {
    if (this.failure) throw this.failure;
    if (this.closing) throw new Error('embedding worker is closed');
    this.inFlightRequests++;
    try {
      return await Promise.all(texts.map((t) => this.batcher.submit(this.tokenizer.encode(t, { parseSpecialTokens: false }).slice(0, this.manifest.contextLength), deadlineAt)));
    } finally {
      this.inFlightRequests--;
    }
  }

  onStats(listener: (s: EngineStats, batchSizes: readonly number[]) => void): () => void {
    this.statsListeners.add(listener);
    return () => this.statsListeners.delete(listener);
  }

  async drainAndClose(timeoutMs = 60_000): Promise<void> {
    this.batcher.close();
    const until = Date.now() + timeoutMs;
    while (this.inFlightRequests > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
    await this.close();
  }

  close(timeoutMs = 5_000): Promise<void> {
    this.closing ??= (async () => {
      this.batcher.close();
      const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
      this.worker.postMessage({ type: 'shutdown' } satisfies ToEmbeddingWorker);
      const timer = setTimeout(() => void this.worker.terminate(), timeoutMs);
      await exited;
      clearTimeout(timer);
    })();
    return this.closing;
  }

  private run(batch: number[][]): Promise<Float32Array[]> {
    const id = this.nextId++;
    return new Promise<Float32Array>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ type: 'embed', id, batch } satisfies ToEmbeddingWorker);
    }).then((flat) => {
      const d = this.manifest.dimensions;
      return batch.map((_, i) => flat.subarray(i * d, (i + 1) * d));
    });
  }

  private reportBatch(size: number): void {
    const stats: EngineStats = { running: size, waiting: this.batcher.waiting, batchSize: size, kvCacheBytes: 0, kvCacheBudgetBytes: 0, steps: 0 };
    for (const l of this.statsListeners) l(stats, [size]);
  }
}
