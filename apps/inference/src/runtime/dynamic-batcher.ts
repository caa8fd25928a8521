import type { DynamicBatchingConfig } from './embedding-manifest';

export class BatcherRejection extends Error {
  constructor(
    readonly reason: 'queue-full' | 'deadline' | 'closed',
    message: string,
  ) {
    super(message);
  }
}

interface Pending<T, R> {
  item: T;
  enqueuedAt: number;
  deadlineAt?: number;
  resolve(r: R): void;
  reject(e: Error): void;
}

export interface BatcherClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

const realClock: BatcherClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

/**
 * Triton-style dynamic batcher with one batch in flight: when as many requests wait as a
 * preferred batch size (largest first) or the max batch size, they go at once; otherwise the
 * oldest waits up to maxQueueDelayMs for companions, then whatever is there goes. Requests past
 * their deadline fail alone (DEADLINE_EXCEEDED); beyond the queue bound they are refused.
 */
export class DynamicBatcher<T, R> {
  private readonly queue: Pending<T, R>[] = [];
  private inFlight = false;
  private timer?: unknown;
  private closed = false;

  constructor(
    private readonly config: DynamicBatchingConfig,
    private readonly execute: (items: T[]) => Promise<R[]>,
    private readonly onBatch: (size: number) => void = () => undefined,
    private readonly clock: BatcherClock = realClock,
  ) {}

  get waiting(): number {
    return this.queue.length;
  }

  submit(item: T, deadlineAt?: number): Promise<R> {
    if (this.closed) return Promise.reject(new BatcherRejection('closed', 'model is unloading'));
    if (this.queue.length >= this.config.maxQueueSize) {
      return Promise.reject(new BatcherRejection('queue-full', `queue full (${this.config.maxQueueSize} waiting)`));
    }
    return new Promise<R>((resolve, reject) => {
      this.queue.push({ item, enqueuedAt: this.clock.now(), deadlineAt, resolve, reject });
      this.pump();
    });
  }

  /** Refuses new requests; waiting and running ones still complete. */
  close(): void {
    this.closed = true;
  }

  private pump(): void {
    if (this.inFlight || this.queue.length === 0) return;
    const now = this.clock.now();
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const p = this.queue[i];
      if (p.deadlineAt !== undefined && p.deadlineAt <= now) {
        this.queue.splice(i, 1);
        p.reject(new BatcherRejection('deadline', 'deadline passed while queued'));
      }
    }
    if (this.queue.length === 0) return;
    const size = this.readySize(now);
    if (size === 0) {
      if (this.timer === undefined) {
        const wait = Math.max(0, this.queue[0].enqueuedAt + this.config.maxQueueDelayMs - now);
        this.timer = this.clock.setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, wait);
      }
      return;
    }
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
    const batch = this.queue.splice(0, size);
    this.inFlight = true;
    this.onBatch(batch.length);
    this.execute(batch.map((p) => p.item)).then(
      (results) => batch.forEach((p, i) => p.resolve(results[i])),
      (err: Error) => batch.forEach((p) => p.reject(err)),
    ).finally(() => {
      this.inFlight = false;
      this.pump();
    });
  }

  /** How many to dispatch now (0 = keep waiting). */
  private readySize(now: number): number {
    const n = this.queue.length;
    const max = this.config.maxBatchSize;
    if (n >= max) return max;
    for (const preferred of this.config.preferredBatchSizes) if (n >= preferred) return preferred;
    if (now - this.queue[0].enqueuedAt >= this.config.maxQueueDelayMs) return n;
    return 0;
  }
}
