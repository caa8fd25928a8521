export interface RetryOptions {
  /** Attempts in all, the first included (across the primary and its fallbacks). */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 2_000 };

/**
 * When a routed request may be tried again, and after how long. A retry is allowed only while
 * no token has reached the client (after one, a second attempt would repeat or contradict
 * text already shown) and attempts remain. The wait is "full jitter" exponential backoff —
 * random in [0, min(max, base·2^n)) so retrying clients spread out — or the backend's
 * Retry-After when it asked for one, capped at maxDelayMs.
 */
export class RetryPolicy {
  constructor(
    private readonly options: RetryOptions = DEFAULT_RETRY,
    private readonly random: () => number = Math.random,
  ) {}

  /** `attempt` counts attempts made so far (1 after the first failure). */
  mayRetry(attempt: number, tokensSent: number): boolean {
    return tokensSent === 0 && attempt < this.options.maxAttempts;
  }

  delayMs(attempt: number, retryAfterMs?: number): number {
    if (retryAfterMs !== undefined) return Math.min(retryAfterMs, this.options.maxDelayMs);
    const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.random() * ceiling);
  }
}
