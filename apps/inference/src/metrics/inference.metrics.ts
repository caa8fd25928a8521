import { Injectable } from '@nestjs/common';
import { MetricsService } from '@troupe/metrics';
import type { Gauge } from 'prom-client';
import { Gauge as PromGauge } from 'prom-client';
import type { EngineStats } from '../runtime/generation.types';

/** Anything that reports engine stats after each step (a generation worker). */
export interface StatsSource {
  onStats(listener: (s: EngineStats, batchSizes: readonly number[]) => void): () => void;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Per-model serving metrics, named after vLLM's (num_requests_running/waiting, time to first
 * token, inter-token latency, e2e latency, prompt/generation token counters, KV cache usage)
 * plus Triton's batch-size view. All carry a `model` label.
 */
@Injectable()
export class InferenceMetrics {
  private readonly running: Gauge<'model'>;
  private readonly waiting: Gauge<'model'>;
  private readonly kvUsage: Gauge<'model'>;
  private readonly kvBytes: Gauge<'model'>;
  private readonly batchSize;
  private readonly queueTime;
  private readonly ttft;
  private readonly itl;
  private readonly e2e;
  private readonly promptTokens;
  private readonly generatedTokens;
  private readonly finished;

  constructor(metrics: MetricsService) {
    const gauge = (name: string, help: string) => new PromGauge({ name, help, labelNames: ['model'], registers: [metrics.registry] });
    this.running = gauge('troupe_num_requests_running', 'Sequences in the running batch');
    this.waiting = gauge('troupe_num_requests_waiting', 'Requests waiting for a batch slot');
    this.kvUsage = gauge('troupe_kv_cache_usage_ratio', 'KV cache bytes in use / KV cache budget (0..1)');
    this.kvBytes = gauge('troupe_kv_cache_bytes', 'KV cache bytes held by the running batch (padding included)');
    this.batchSize = metrics.histogram('troupe_batch_size', 'Sequences per decode run', ['model'], [1, 2, 4, 8, 16, 32, 64, 128, 256]);
    this.queueTime = metrics.histogram('troupe_request_queue_time_seconds', 'Time a request waited for a batch slot', ['model'], LATENCY_BUCKETS);
    this.ttft = metrics.histogram('troupe_time_to_first_token_seconds', 'From request to first token', ['model'], LATENCY_BUCKETS);
    this.itl = metrics.histogram('troupe_inter_token_latency_seconds', 'Between two streamed tokens of one request', ['model'], LATENCY_BUCKETS);
    this.e2e = metrics.histogram('troupe_e2e_request_latency_seconds', 'From request to its last event', ['model'], LATENCY_BUCKETS);
    this.promptTokens = metrics.counter('troupe_prompt_tokens_total', 'Prompt tokens processed', ['model']);
    this.generatedTokens = metrics.counter('troupe_generated_tokens_total', 'Tokens generated', ['model']);
    this.finished = metrics.counter('troupe_request_finished_total', 'Finished generations by reason', ['model', 'finish_reason']);
  }

  /**
   * Wires the step stats of a model's instances into the gauges (summed over instances) and
   * the batch-size histogram. Returns the function that unhooks them all.
   */
  observeModel(model: string, instances: readonly StatsSource[]): () => void {
    const latest = new Map<number, EngineStats>();
    const offs = instances.map((instance, i) =>
      instance.onStats((s, batchSizes) => {
        latest.set(i, s);
        let running = 0;
        let waiting = 0;
        let kv = 0;
        let budget = 0;
        for (const x of latest.values()) {
          running += x.running;
          waiting += x.waiting;
          kv += x.kvCacheBytes;
          budget += x.kvCacheBudgetBytes;
        }
        this.running.set({ model }, running);
        this.waiting.set({ model }, waiting);
        this.kvBytes.set({ model }, kv);
        this.kvUsage.set({ model }, budget > 0 ? kv / budget : 0);
        for (const size of batchSizes) this.batchSize.observe({ model }, size);
      }),
    );
    return () => offs.forEach((off) => off());
  }

  /**
   * Timings of one request; call tokens(n) per streamed delta of n tokens and done() once. The
   * tokens of one delta arrive together: the first is observed at the gap since the previous
   * delta, the others at 0, which is the inter-token latency a client sees.
   */
  request(model: string): { tokens(count: number): void; done(reason: string, promptTokens: number, queueMs?: number): void } {
    // Label children bound once per request: the per-token path does no label hashing.
    const ttft = this.ttft.labels({ model });
    const itl = this.itl.labels({ model });
    const generated = this.generatedTokens.labels({ model });
    const started = performance.now();
    let last = 0;
    return {
      tokens: (count) => {
        const now = performance.now();
        if (last === 0) ttft.observe((now - started) / 1000);
        else itl.observe((now - last) / 1000);
        for (let i = 1; i < count; i++) itl.observe(0);
        last = now;
        generated.inc(count);
      },
      done: (reason, promptTokens, queueMs) => {
        this.e2e.observe({ model }, (performance.now() - started) / 1000);
        this.promptTokens.inc({ model }, promptTokens);
        this.finished.inc({ model, finish_reason: reason });
        if (queueMs !== undefined) this.queueTime.observe({ model }, queueMs / 1000);
      },
    };
  }
}
