import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per process: process metrics, event-loop delay, and request
 * counters/latency histograms for each transport. Services add their own through it.
 */
export class MetricsService {
  readonly registry = new Registry();
  readonly requests: Counter<'transport' | 'method' | 'outcome'>;
  readonly requestDuration: Histogram<'transport' | 'method' | 'outcome'>;

  constructor(readonly service: string) {
    this.registry.setDefaultLabels({ service });
    collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    this.requests = this.counter('troupe_requests_total', 'Requests handled, by transport, method and outcome', [
      'transport',
      'method',
      'outcome',
    ]);
    this.requestDuration = this.histogram(
      'troupe_request_duration_seconds',
      'Time to handle a request (for streams: until the stream ends)',
      ['transport', 'method', 'outcome'],
      [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames: labelNames as L[], registers: [this.registry] });
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[] = [], buckets?: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames: labelNames as L[], buckets, registers: [this.registry] });
  }

  /** Records one finished request. */
  observeRequest(transport: string, method: string, outcome: string, seconds: number): void {
    this.requests.inc({ transport, method, outcome });
    this.requestDuration.observe({ transport, method, outcome }, seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
