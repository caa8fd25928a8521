import { Injectable } from '@nestjs/common';

/** A readiness check: resolves when the dependency answers, rejects (or times out) when not. */
export type HealthCheck = () => Promise<unknown>;

/** What a check may resolve with to show what it found in /health (e.g. a peer's instances). */
export class HealthDetail {
  constructor(readonly detail: unknown) {}
}

export interface HealthReport {
  status: 'ok' | 'unavailable';
  live: true;
  ready: boolean;
  checks: Record<string, { ok: boolean; error?: string; ms: number; detail?: unknown }>;
}

/** Modules register what their readiness depends on (Redis, gRPC peers); /health runs them. */
@Injectable()
export class HealthService {
  private readonly checks = new Map<string, HealthCheck>();
  private shuttingDown = false;

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  /** From SIGTERM on, readiness fails so balancers stop sending new work. */
  markShuttingDown(): void {
    this.shuttingDown = true;
  }

  async report(timeoutMs = 2000): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        const started = Date.now();
        try {
          const found = await withTimeout(check(), timeoutMs, name);
          return [name, { ok: true, ms: Date.now() - started, ...(found instanceof HealthDetail ? { detail: found.detail } : {}) }] as const;
        } catch (e) {
          return [name, { ok: false, error: (e as Error).message, ms: Date.now() - started }] as const;
        }
      }),
    );
    const checks: HealthReport['checks'] = Object.fromEntries(entries);
    if (this.shuttingDown) checks['shutdown'] = { ok: false, error: 'shutting down', ms: 0 };
    const ready = Object.values(checks).every((c) => c.ok);
    return { status: ready ? 'ok' : 'unavailable', live: true, ready, checks };
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${name} did not answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
