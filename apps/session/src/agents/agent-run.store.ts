import { Inject, Injectable } from '@nestjs/common';
import { AgentRunRecord, AgentRunResult, AgentRunStatus } from '@troupe/domain';
import { REDIS, Redis, hsetWithExpiry } from '@troupe/redis';
import { SessionConfig } from '../session.config';

export interface RunListFilter {
  status?: AgentRunStatus;
  role?: string;
  offset: number;
  limit: number;
}

/**
 * Creates a run's hash unless it exists, in one round trip. KEYS: run hash, index.
 * ARGV: run id, ttl s, enqueue time, then field/value pairs. Returns the existing hash's
 * fields (HGETALL) when there was one, else an empty list.
 */
const CREATE_RUN = `
if redis.call('HSETNX', KEYS[1], 'runId', ARGV[1]) == 0 then
  return redis.call('HGETALL', KEYS[1])
end
redis.call('HSET', KEYS[1], unpack(ARGV, 4))
redis.call('EXPIRE', KEYS[1], ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
return {}
`;

/**
 * Marks a run ended unless an attempt did already, and stores its fields, in one round trip.
 * KEYS: run hash, end mark. ARGV: ttl s, then field/value pairs. Returns 1 for the one caller
 * that ended it.
 */
const END_RUN = `
if not redis.call('SET', KEYS[2], '1', 'EX', ARGV[1], 'NX') then
  return 0
end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return 1
`;

/** Counts an attempt and notes it on the run, in one round trip. KEYS: run hash. ARGV: ttl s, then field/value pairs. */
const START_ATTEMPT = `
local attempts = redis.call('HINCRBY', KEYS[1], 'attempts', 1)
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('EXPIRE', KEYS[1], ARGV[1])
return attempts
`;

type RunScripts = {
  troupeCreateRun(hash: string, index: string, runId: string, ttl: number, now: number, ...fields: (string | number)[]): Promise<string[]>;
  troupeEndRun(hash: string, done: string, ttl: number, ...fields: (string | number)[]): Promise<number>;
  troupeStartAttempt(hash: string, ttl: number, ...fields: (string | number)[]): Promise<number>;
};

/**
 * Runs, their progress and results in Redis (hashes with the retention TTL, plus an index by
 * enqueue time for listing). Completion is claimed once per run id, whatever BullMQ retries.
 */
@Injectable()
export class AgentRunStore {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: SessionConfig,
  ) {
    this.redis.defineCommand('troupeCreateRun', { numberOfKeys: 2, lua: CREATE_RUN });
    this.redis.defineCommand('troupeEndRun', { numberOfKeys: 2, lua: END_RUN });
    this.redis.defineCommand('troupeStartAttempt', { numberOfKeys: 1, lua: START_ATTEMPT });
  }

  /**
   * Records a queued run; when it exists already (a re-delivered job keeps its history, a run
   * enqueued through the API was recorded then) it is left as it is and returned.
   * `startedIn`: a new run is recorded as started at once, in that session (its first attempt,
   * as startAttempt would note it), saving the worker a round trip.
   */
  async create(run: Pick<AgentRunRecord, 'runId' | 'role' | 'task' | 'sessionId' | 'parentRunId' | 'idempotencyKey'>, startedIn?: string): Promise<AgentRunRecord | undefined> {
    const now = Date.now();
    const state = startedIn === undefined ? { status: 'queued', sessionId: run.sessionId, attempts: 0 } : { status: 'active', sessionId: startedIn, attempts: 1, startedAt: now };
    const fields = { ...state, role: run.role, task: run.task, parentRunId: run.parentRunId, idempotencyKey: run.idempotencyKey, enqueuedAt: now };
    const existing = await this.scripts.troupeCreateRun(this.key(run.runId), this.indexKey(), run.runId, this.config.AGENT_RUN_RETENTION_SECONDS, now, ...Object.entries(fields).flat());
    if (existing.length === 0) return undefined;
    const hash: Record<string, string> = {};
    for (let i = 0; i < existing.length; i += 2) hash[existing[i]] = existing[i + 1];
    return toRecord(hash);
  }

  async update(runId: string, fields: Partial<Record<keyof AgentRunRecord, string | number>>): Promise<void> {
    await hsetWithExpiry(this.redis, this.key(runId), fields as Record<string, string | number>, this.config.AGENT_RUN_RETENTION_SECONDS);
  }

  async startAttempt(runId: string, sessionId: string): Promise<number> {
    const fields = { status: 'active', startedAt: Date.now(), sessionId, error: '' };
    return this.scripts.troupeStartAttempt(this.key(runId), this.config.AGENT_RUN_RETENTION_SECONDS, ...Object.entries(fields).flat());
  }

  /**
   * Stores the result if no attempt has yet; true for the one caller that did. Only that caller
   * announces the run, so a run is never reported done twice.
   */
  async complete(runId: string, result: AgentRunResult): Promise<boolean> {
    return this.end(runId, { status: 'completed', finishedAt: Date.now(), result: JSON.stringify(result), error: '' });
  }

  /** Like complete, for a run that ends without a result (failed for good, cancelled). */
  async finish(runId: string, status: Exclude<AgentRunStatus, 'completed'>, error: string): Promise<boolean> {
    return this.end(runId, { status, finishedAt: Date.now(), error });
  }

  private async end(runId: string, fields: Record<string, string | number>): Promise<boolean> {
    const ended = await this.scripts.troupeEndRun(this.key(runId), this.doneKey(runId), this.config.AGENT_RUN_RETENTION_SECONDS, ...Object.entries(fields).flat());
    return ended === 1;
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
    return toRecord(await this.redis.hgetall(this.key(runId)));
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

  private get scripts(): RunScripts {
    return this.redis as unknown as RunScripts;
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

/** A run hash as read from Redis (undefined when there is none). */
function toRecord(h: Record<string, string>): AgentRunRecord | undefined {
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
