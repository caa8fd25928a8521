import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One Prometheus registry per process: process metrics, event-loop delay, and request
 * counters/latency histograms for each transport. Services add their own through it.
 */
export class MetricsService {
  readonly registry = new Registry();
  /** Label children of the request metrics, by transport|method|outcome: labels are hashed once, not per request. */
  private readonly requestSeries = new Map<string, { count: { inc(): void }; duration: { observe(seconds: number): void } }>();
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

  /** A gauge read when scraped (`read` gives its value then). */
  gauge(name: string, help: string, read: () => number): Gauge {
    return new Gauge({
      name,
      help,
      registers: [this.registry],
      collect() {
        this.set(read());
      },
    });
  }

  /** Records one finished request. */
  observeRequest(transport: string, method: string, outcome: string, seconds: number): void {
    const key = `${transport}|${method}|${outcome}`;
    let series = this.requestSeries.get(key);
    if (!series) {
      const labels = { transport, method, outcome };
      series = { count: this.requests.labels(labels), duration: this.requestDuration.labels(labels) };
      this.requestSeries.set(key, series);
    }
    series.count.inc();
    series.duration.observe(seconds);
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }
}
