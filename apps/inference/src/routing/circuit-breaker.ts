export interface CircuitBreakerOptions {
  /** Outcomes remembered (a sliding window of the most recent calls). */
  windowSize: number;
  /** Fewest outcomes in the window before the error rate may open the breaker. */
  minRequests: number;
  /** Error rate (0..1] at or above which the breaker opens. */
  failureRate: number;
  /** How long an open breaker refuses calls before it lets one probe through. */
  openMs: number;
}

export type BreakerState = 'closed' | 'open' | 'half-open';

export const DEFAULT_BREAKER: CircuitBreakerOptions = { windowSize: 20, minRequests: 5, failureRate: 0.5, openMs: 10_000 };

/**
 * One backend's circuit breaker. Closed: calls pass and their outcomes fill a sliding window;
 * once the window holds `minRequests` outcomes and the error rate reaches `failureRate`, it
 * opens. Open: calls are refused until `openMs` has passed. Half-open: exactly one probe call
 * passes; its success closes the breaker (with a fresh window), its failure opens it again.
 */
export class CircuitBreaker {
  private outcomes: boolean[] = [];
  private openedAt = 0;
  private current: BreakerState = 'closed';
  private probing = false;

  constructor(
    private readonly options: CircuitBreakerOptions = DEFAULT_BREAKER,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (this.current === 'open' && this.now() - this.openedAt >= this.options.openMs) {
      this.current = 'half-open';
      this.probing = false;
    }
    return this.current;
  }

  /** Whether a call may go to the backend now; in half-open it reserves the single probe. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.probing) return false;
    this.probing = true;
    return true;
  }

  /** The outcome of a call that tryAcquire let through. */
  record(success: boolean): void {
    if (this.state === 'half-open') {
      this.probing = false;
      if (success) {
        this.current = 'closed';
        this.outcomes = [];
      } else {
        this.open();
      }
      return;
    }
    if (this.current === 'open') return;
    this.outcomes.push(success);
    if (this.outcomes.length > this.options.windowSize) this.outcomes.shift();
    const failures = this.outcomes.filter((ok) => !ok).length;
    if (this.outcomes.length >= this.options.minRequests && failures / this.outcomes.length >= this.options.failureRate) this.open();
  }

  /** A probe that ended without an outcome (cancelled by the client) frees the probe slot. */
  release(): void {
    if (this.current === 'half-open') this.probing = false;
  }

  private open(): void {
    this.current = 'open';
    this.openedAt = this.now();
    this.outcomes = [];
    this.probing = false;
  }
}
