import type { MetricsService } from '@troupe/metrics';
import { Gauge } from 'prom-client';

/** What a balanced pool reports about its calls (kept free of any metrics library). */
export interface PoolObserver {
  /** One attempt on one instance ended: `outcome` is OK or the gRPC status name. */
  called(peer: string, address: string, outcome: string): void;
  /** A call failed on one instance without an answer and moved on to another. */
  retried(peer: string): void;
  /** An instance failed a call with UNAVAILABLE and is skipped for a while. */
  cooledDown(peer: string, address: string): void;
}

/**
 * The pools' view on /metrics: calls per peer instance and outcome, retries, cool-downs, and
 * the instances each pool knows (read when scraped), so an operator sees where calls go.
 */
export class PoolMetrics implements PoolObserver {
  private readonly calls;
  private readonly retries;
  private readonly cooldowns;
  private readonly known = new Map<string, () => number>();

  constructor(metrics: MetricsService) {
    this.calls = metrics.counter('troupe_peer_calls_total', 'gRPC calls to discovered peer instances, by peer, instance and outcome', ['peer', 'instance', 'outcome']);
    this.retries = metrics.counter('troupe_peer_retries_total', 'Calls that failed on one instance without an answer and went to another', ['peer']);
    this.cooldowns = metrics.counter('troupe_peer_cooldowns_total', 'Times a peer instance was set aside after failing a call with UNAVAILABLE', ['peer', 'instance']);
    const known = this.known;
    new Gauge({
      name: 'troupe_peer_instances',
      help: 'Live instances of each peer service in the registry, as this process sees them',
      labelNames: ['peer'],
      registers: [metrics.registry],
      collect() {
        for (const [peer, count] of known) this.set({ peer }, count());
      },
    });
  }

  /** Counts `peer`'s live instances at each scrape. */
  watch(peer: string, count: () => number): void {
    this.known.set(peer, count);
  }

  called(peer: string, address: string, outcome: string): void {
    this.calls.inc({ peer, instance: address, outcome });
  }

  retried(peer: string): void {
    this.retries.inc({ peer });
  }

  cooledDown(peer: string, address: string): void {
    this.cooldowns.inc({ peer, instance: address });
  }
}
