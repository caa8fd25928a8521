/** Admission control of one model instance's running batch: plain logic, no onnxruntime. */

export type Priority = 'interactive' | 'bulk';

export interface SchedulerItem {
  priority: Priority;
  /** Epoch ms after which the request fails with DEADLINE_EXCEEDED; undefined = none. */
  deadlineAt?: number;
  /** Worst-case tokens this sequence can hold in the KV cache (prompt + max new tokens). */
  reservedTokens: number;
  /** Prompt tokens, counted against the per-step prefill budget. */
  promptTokens: number;
}

export interface SchedulerLimits {
  /** Sequences decoded together in one run. */
  maxBatchSize: number;
  /** Bound on the padded batch KV cache: batch size x longest reservation x bytes per token. */
  kvCacheBytes: number;
  /** KV bytes one token takes over all layers (2 x layers x kv heads x head dim x 4). */
  kvBytesPerToken: number;
  /**
   * Requests allowed to wait; more are refused (RESOURCE_EXHAUSTED). Those the batch's free
   * slots will take at the next step do not count (a burst queued at once is not refused for
   * the slots it is about to fill).
   */
  maxWaiting: number;
  /** Prompt tokens prefilled between two decode steps (at least one sequence always joins). */
  maxPrefillTokensPerStep: number;
}

export type EnqueueOutcome = 'queued' | 'queue-full' | 'too-large';

/**
 * Who waits, who runs. Interactive requests are admitted before bulk ones, each class in
 * arrival order; admission stops at the first request that does not fit (no overtaking, so a
 * long request is never starved by a stream of short ones). The KV bound counts padding:
 * sequences of a batch share one past length, so the batch costs size x longest.
 */
export class BatchScheduler<T extends SchedulerItem> {
  private readonly waitingByPriority: Record<Priority, T[]> = { interactive: [], bulk: [] };
  private readonly runningSet: T[] = [];

  constructor(readonly limits: SchedulerLimits) {}

  get running(): readonly T[] {
    return this.runningSet;
  }

  get waitingCount(): number {
    return this.waitingByPriority.interactive.length + this.waitingByPriority.bulk.length;
  }

  /** Bytes the running batch may occupy at most (its reservation). */
  get reservedKvBytes(): number {
    return this.batchBytes(this.runningSet.length, maxReservation(this.runningSet));
  }

  enqueue(item: T): EnqueueOutcome {
    if (this.batchBytes(1, item.reservedTokens) > this.limits.kvCacheBytes) return 'too-large';
    const freeSlots = Math.max(0, this.limits.maxBatchSize - this.runningSet.length);
    if (this.waitingCount >= this.limits.maxWaiting + freeSlots) return 'queue-full';
    this.waitingByPriority[item.priority].push(item);
    return 'queued';
  }

  /** Removes a waiting or running item; true when it was there. */
  remove(item: T): boolean {
    for (const list of [this.waitingByPriority.interactive, this.waitingByPriority.bulk, this.runningSet]) {
      const i = list.indexOf(item);
      if (i >= 0) {
        list.splice(i, 1);
        return true;
      }
    }
    return false;
  }

  /** Waiting items whose deadline has passed, removed from the queue. */
  expireWaiting(now: number): T[] {
    const expired: T[] = [];
    for (const p of ['interactive', 'bulk'] as const) {
      const keep: T[] = [];
      for (const item of this.waitingByPriority[p]) (item.deadlineAt !== undefined && item.deadlineAt <= now ? expired : keep).push(item);
      this.waitingByPriority[p] = keep;
    }
    return expired;
  }

  /** Running items whose deadline has passed (still running; the caller ends and removes them). */
  overdueRunning(now: number): T[] {
    return this.runningSet.filter((item) => item.deadlineAt !== undefined && item.deadlineAt <= now);
  }

  /** Moves the waiting items that fit into the running batch and returns them, in order. */
  admit(): T[] {
    const admitted: T[] = [];
    let prefill = 0;
    for (const p of ['interactive', 'bulk'] as const) {
      const queue = this.waitingByPriority[p];
      while (queue.length > 0) {
        const next = queue[0];
        if (this.runningSet.length >= this.limits.maxBatchSize) return admitted;
        const longest = Math.max(maxReservation(this.runningSet), next.reservedTokens);
        if (this.batchBytes(this.runningSet.length + 1, longest) > this.limits.kvCacheBytes) return admitted;
        if (admitted.length > 0 && prefill + next.promptTokens > this.limits.maxPrefillTokensPerStep) return admitted;
        queue.shift();
        prefill += next.promptTokens;
        this.runningSet.push(next);
        admitted.push(next);
      }
    }
    return admitted;
  }

  private batchBytes(size: number, longest: number): number {
    return size * longest * this.limits.kvBytesPerToken;
  }
}

function maxReservation(items: readonly SchedulerItem[]): number {
  let m = 0;
  for (const i of items) if (i.reservedTokens > m) m = i.reservedTokens;
  return m;
}
