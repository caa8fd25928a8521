import { IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';
import type { InstanceLoad } from './instance-record';

/** What a service adds to its announcement beyond the generic load (inference: models, queue). */
export interface InstanceDetailsSource {
  /** Names of the models served now. */
  models(): string[];
  /** Requests waiting behind the running work. */
  queueDepth(): number;
}

/**
 * This process's load as the announcer reports it: gRPC calls in flight (counted by the
 * gRPC server's call observers), queue depth from the service's details source, and the event loop's
 * p99 delay since the previous sample.
 */
export class LoadMonitor {
  private calls = 0;
  private histogram?: IntervalHistogram;
  private details?: InstanceDetailsSource;

  /** The service's own part of the report (inference registers its model registry). */
  describeWith(details: InstanceDetailsSource): void {
    this.details = details;
  }

  /** Starts measuring the event loop (only instances that announce themselves pay for it). */
  start(): void {
    this.histogram ??= monitorEventLoopDelay({ resolution: 10 });
    this.histogram.enable();
  }

  callStarted(): void {
    this.calls++;
  }

  callEnded(): void {
    this.calls = Math.max(0, this.calls - 1);
  }

  get inFlight(): number {
    return this.calls;
  }

  /** Load now; the event-loop histogram restarts so each sample covers one heartbeat. */
  sample(): InstanceLoad {
    const p99 = this.histogram && this.histogram.count > 0 ? this.histogram.percentile(99) / 1e6 : 0;
    this.histogram?.reset();
    return { inFlight: this.calls, queueDepth: this.details?.queueDepth() ?? 0, eventLoopDelayP99Ms: Math.round(p99 * 100) / 100 };
  }

  models(): string[] {
    return this.details?.models() ?? [];
  }

  close(): void {
    this.histogram?.disable();
  }
}
