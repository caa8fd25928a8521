/** The stretch policy: how busy the event loop may get before tokens are merged more. */
export interface AdaptiveIntervalPolicy {
  /** The interval when the process keeps up (TOKEN_STREAM_INTERVAL_MS). */
  baseMs: number;
  /** The longest it stretches to under load (TOKEN_STREAM_INTERVAL_MAX_MS); <= baseMs: fixed. */
  maxMs: number;
  /** Above this event-loop utilization (0..1) over a window, the interval grows. */
  busy: number;
  /** Below this one it shrinks back toward baseMs. */
  calm: number;
  /** Factor of each step up or down. */
  step: number;
}

export const DEFAULT_ADAPTIVE_POLICY: Omit<AdaptiveIntervalPolicy, 'baseMs' | 'maxMs'> = { busy: 0.8, calm: 0.6, step: 1.5 };

/**
 * The token stream interval of one `session` process, stretched while its event loop is busy.
 * Every reply.token event costs an append, a notice and a write to each client whatever it
 * carries, so when the process falls behind, merging more tokens per event is what keeps a
 * reply's first token, a new message and every other event from queuing behind token traffic.
 * Clients get the same tokens in fewer, larger events; the interval returns to its base as soon
 * as the load goes. `observe` takes the utilization of the window just ended (the service
 * samples `performance.eventLoopUtilization` on a timer).
 */
export class AdaptiveTokenInterval {
  private current: number;

  constructor(private readonly policy: AdaptiveIntervalPolicy) {
    this.current = policy.baseMs;
  }

  /** The interval to use now (ms). */
  get ms(): number {
    return this.current;
  }

  get adaptive(): boolean {
    return this.policy.baseMs > 0 && this.policy.maxMs > this.policy.baseMs;
  }

  observe(utilization: number): void {
    if (!this.adaptive) return;
    const { baseMs, maxMs, busy, calm, step } = this.policy;
    if (utilization > busy) this.current = Math.min(maxMs, Math.round(this.current * step));
    else if (utilization < calm) this.current = Math.max(baseMs, Math.round(this.current / step));
  }
}
