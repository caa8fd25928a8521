import { Inject, Injectable } from '@nestjs/common';
import { AgentRunRecord, AgentRunResult, AgentRunStatus } from '@troupe/domain';
import { REDIS, Redis } from '@troupe/redis';
import { SessionConfig } from '../session.config';

export interface RunListFilter {
  status?: AgentRunStatus;
  role?: string;
  offset: number;
  limit: number;
}

/**
 * Runs, their progress and results in Redis (hashes with the retention TTL, plus an index by
 * enqueue time for listing). Completion is claimed once per run id, whatever BullMQ retries.
 */
@Injectable()
export class AgentRunStore {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: SessionConfig,
  ) {}

  /** Records a queued run (no-op when it exists: a re-delivered job keeps its history). */
  async create(run: Pick<AgentRunRecord, 'runId' | 'role' | 'task' | 'sessionId' | 'parentRunId' | 'idempotencyKey'>): Promise<void> {
    const key = this.key(run.runId);
    const now = Date.now();
    const created = await this.redis.hsetnx(key, 'runId', run.runId);
    if (created === 0) return;
    await this.redis
      .multi()
      .hset(key, { status: 'queued', role: run.role, task: run.task, sessionId: run.sessionId, parentRunId: run.parentRunId, idempotencyKey: run.idempotencyKey, attempts: 0, enqueuedAt: now })
      .expire(key, this.config.AGENT_RUN_RETENTION_SECONDS)
      .zadd(this.indexKey(), now, run.runId)
      .exec();
  }

  async update(runId: string, fields: Partial<Record<keyof AgentRunRecord, string | number>>): Promise<void> {
    await this.redis.multi().hset(this.key(runId), fields).expire(this.key(runId), this.config.AGENT_RUN_RETENTION_SECONDS).exec();
  }

  async startAttempt(runId: string, sessionId: string): Promise<number> {
    const key = this.key(runId);
    const [[, attempts]] = (await this.redis
      .multi()
      .hincrby(key, 'attempts', 1)
      .hset(key, { status: 'active', startedAt: Date.now(), sessionId, error: '' })
      .expire(key, this.config.AGENT_RUN_RETENTION_SECONDS)
      .exec()) as [[null, number], ...unknown[]];
    return attempts;
  }

  /**
   * Stores the result if no attempt has yet; true for the one caller that did. Only that caller
   * announces the run, so a run is never reported done twice.
   */
  async complete(runId: string, result: AgentRunResult): Promise<boolean> {
    const claimed = await this.redis.set(this.doneKey(runId), '1', 'EX', this.config.AGENT_RUN_RETENTION_SECONDS, 'NX');
    if (claimed !== 'OK') return false;
    await this.update(runId, { status: 'completed', finishedAt: Date.now(), result: JSON.stringify(result), error: '' });
    return true;
  }

  /** Like complete, for a run that ends without a result (failed for good, cancelled). */
  async finish(runId: string, status: Exclude<AgentRunStatus, 'completed'>, error: string): Promise<boolean> {
    const claimed = await this.redis.set(this.doneKey(runId), '1', 'EX', this.config.AGENT_RUN_RETENTION_SECONDS, 'NX');
    if (claimed !== 'OK') return false;
    await this.update(runId, { status, finishedAt: Date.now(), error });
    return true;
  }

  /** Clears the end mark so an operator's retry can run it again. */
  async reopen(runId: string): Promise<void> {
    await this.redis.del(this.doneKey(runId));
    await this.update(runId, { status: 'queued', error: '', finishedAt: 0 });
  }

  async isDone(runId: string): Promise<boolean> {
    return (await this.redis.exists(this.doneKey(runId))) === 1;
  }

  /** Claims an idempotency key for a run; returns the run id that holds it (this one, or an earlier one). */
  async claimIdempotencyKey(key: string, runId: string): Promise<string> {
    const k = `agent-idempotency:${key}`;
    const set = await this.redis.set(k, runId, 'EX', this.config.AGENT_RUN_RETENTION_SECONDS, 'NX');
    return set === 'OK' ? runId : ((await this.redis.get(k)) ?? runId);
  }

  async get(runId: string): Promise<AgentRunRecord | undefined> {
    const h = await this.redis.hgetall(this.key(runId));
    if (!h.runId) return undefined;
    return {
      runId: h.runId,
      status: h.status as AgentRunStatus,
      role: h.role ?? '',
      task: h.task ?? '',
      sessionId: h.sessionId ?? '',
      parentRunId: h.parentRunId ?? '',
      idempotencyKey: h.idempotencyKey ?? '',
      attempts: Number(h.attempts ?? 0),
      enqueuedAt: Number(h.enqueuedAt ?? 0),
      startedAt: Number(h.startedAt ?? 0),
      finishedAt: Number(h.finishedAt ?? 0),
      ...(h.result ? { result: JSON.parse(h.result) as AgentRunResult } : {}),
      error: h.error ?? '',
    };
  }

  /** Newest first; filters apply to the page scanned, expired runs drop out of the index. */
  async list(filter: RunListFilter): Promise<{ items: AgentRunRecord[]; total: number }> {
    const ids = await this.redis.zrevrange(this.indexKey(), 0, -1);
    const items: AgentRunRecord[] = [];
    const expired: string[] = [];
    for (const id of ids) {
      const run = await this.get(id);
      if (!run) {
        expired.push(id);
        continue;
      }
      if ((filter.status && run.status !== filter.status) || (filter.role && run.role !== filter.role)) continue;
      items.push(run);
    }
    if (expired.length) await this.redis.zrem(this.indexKey(), ...expired);
    return { items: items.slice(filter.offset, filter.offset + filter.limit), total: items.length };
  }

  private key(runId: string): string {
    return `agent-run:${runId}`;
  }

  private doneKey(runId: string): string {
    return `agent-run:${runId}:done`;
  }

  private indexKey(): string {
    return 'agent-runs:index';
  }
}
