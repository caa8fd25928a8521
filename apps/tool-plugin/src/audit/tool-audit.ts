import { createHash } from 'node:crypto';
import type Redis from 'ioredis';
import { MetricsService } from '@troupe/metrics';
import type { Counter, Histogram } from 'prom-client';

export type CallOutcome = 'ok' | 'error' | 'timeout' | 'denied';

/** One audited call. Arguments are kept only as a digest: they may hold personal data. */
export interface ToolCallRecord {
  callId: string;
  roleId: string;
  sessionId: string;
  turnId: string;
  tool: string;
  argsDigest: string;
  durationMs: number;
  outcome: CallOutcome;
  /** "CODE: message" when not ok. */
  error: string;
}

export function argsDigest(argumentsJson: string): string {
  return 'sha256:' + createHash('sha256').update(argumentsJson).digest('hex');
}

export abstract class ToolAuditLog {
  abstract record(entry: ToolCallRecord): Promise<void>;
}

/** A Redis Stream capped at a length (MAXLEN ~, so trimming stays cheap). */
export class RedisToolAuditLog extends ToolAuditLog {
  static readonly KEY = 'tool-plugin:audit';

  constructor(
    private readonly redis: Redis,
    private readonly maxLen: number,
  ) {
    super();
  }

  async record(e: ToolCallRecord): Promise<void> {
    await this.redis.xadd(
      RedisToolAuditLog.KEY,
      'MAXLEN',
      '~',
      this.maxLen,
      '*',
      ...Object.entries(e).flatMap(([k, v]) => [k, String(v)]),
    );
  }
}

/** Per-tool Prometheus metrics: calls by outcome (errors, timeouts) and latency. */
export class ToolMetrics {
  private readonly calls: Counter<'tool' | 'outcome'>;
  private readonly duration: Histogram<'tool'>;

  constructor(metrics: MetricsService) {
    this.calls = metrics.counter('troupe_tool_calls_total', 'Tool calls by tool and outcome (ok, error, timeout, denied)', ['tool', 'outcome']);
    this.duration = metrics.histogram(
      'troupe_tool_call_duration_seconds',
      'Wall-clock time of tool calls',
      ['tool'],
      [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    );
  }

  observe(tool: string, outcome: CallOutcome, seconds: number): void {
    this.calls.inc({ tool, outcome });
    this.duration.observe({ tool }, seconds);
  }
}
