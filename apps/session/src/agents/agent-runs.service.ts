import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { AgentRunPayload, AgentRunRecord, AgentRunStatus } from '@troupe/domain';
import { REDIS, Redis, RedisSubscriber, prefixedChannel } from '@troupe/redis';
import { injectTraceContext } from '@troupe/tracing';
import { Job, JobsOptions } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { SessionConfig } from '../session.config';
import { AgentQueues } from './agent-queues';
import { AgentRunStore } from './agent-run.store';
import { Delegation } from './agent-runner';

export class AgentRunError extends Error {
  constructor(
    readonly code: 'UNKNOWN_RUN' | 'NOT_CANCELLABLE' | 'NOT_RETRYABLE' | 'UNKNOWN_SCHEDULE',
    message: string,
    readonly field = 'runId',
  ) {
    super(message);
  }
}

export interface Enqueued {
  run: AgentRunRecord;
  /** True when the idempotency key had been used: the earlier run is returned, nothing new queued. */
  duplicate: boolean;
}

export interface ScheduleInfo {
  id: string;
  pattern: string;
  next?: number;
  payload: AgentRunPayload;
}

/** Producing agent runs and operating on them (cancel, retry, dead letters, schedules). */
@Injectable()
export class AgentRunsService implements OnModuleInit {
  private readonly cancelListeners: ((runId: string) => void)[] = [];

  constructor(
    private readonly queues: AgentQueues,
    private readonly store: AgentRunStore,
    private readonly config: SessionConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly subscriber: RedisSubscriber,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.subscriber.subscribe(prefixedChannel(this.redis, 'agent-runs:cancel'), (runId) => this.cancelListeners.forEach((l) => l(runId)));
  }

  /** Workers register here to abort a run they hold when any instance cancels it. */
  onCancel(listener: (runId: string) => void): void {
    this.cancelListeners.push(listener);
  }

  async enqueue(payload: AgentRunPayload): Promise<Enqueued> {
    const runId = randomUUID();
    if (payload.idempotencyKey) {
      const holder = await this.store.claimIdempotencyKey(payload.idempotencyKey, runId);
      if (holder !== runId) {
        const earlier = await this.store.get(holder);
        if (earlier) return { run: earlier, duplicate: true };
      }
    }
    await this.store.create({ runId, role: payload.role, task: payload.task, sessionId: payload.sessionId ?? '', parentRunId: '', idempotencyKey: payload.idempotencyKey ?? '' });
    // The run continues the trace of whoever queued it (a chat turn's delegate call, a traced request).
    const data: AgentRunPayload = { ...payload, traceContext: injectTraceContext() ?? payload.traceContext };
    await this.queues.queue('agent-runs').add('agent.run', data, { ...this.jobOptions(payload), jobId: runId });
    return { run: (await this.store.get(runId))!, duplicate: false };
  }

  /** Child runs of a delegation, each with the parent as its BullMQ flow parent. */
  async addChildren(parent: Job, payload: AgentRunPayload, delegations: Delegation[]): Promise<void> {
    for (const d of delegations) {
      const child: AgentRunPayload = {
        role: d.role,
        task: d.task,
        parentRunId: parent.id!,
        ...(payload.deadline ? { deadline: payload.deadline } : {}),
        traceContext: injectTraceContext(),
      };
      await this.store.create({ runId: d.runId, role: d.role, task: d.task, sessionId: '', parentRunId: parent.id!, idempotencyKey: '' });
      await this.queues.queue('agent-runs').add('agent.run', child, {
        ...this.jobOptions(child),
        jobId: d.runId,
        parent: { id: parent.id!, queue: parent.queueQualifiedName },
      });
    }
  }

  get(runId: string): Promise<AgentRunRecord | undefined> {
    return this.store.get(runId);
  }

  async require(runId: string): Promise<AgentRunRecord> {
    const run = await this.store.get(runId);
    if (!run) throw new AgentRunError('UNKNOWN_RUN', `run "${runId}" does not exist (or has expired)`);
    return run;
  }

  list(filter: { status?: AgentRunStatus; role?: string; offset: number; limit: number }) {
    return this.store.list(filter);
  }

  /** Removes a waiting run, or aborts a running one on whichever instance holds it. */
  async cancel(runId: string): Promise<AgentRunRecord> {
    const run = await this.require(runId);
    const job = await this.queues.queue('agent-runs').getJob(runId);
    const state = job ? await job.getState() : 'unknown';
    if (state === 'active') {
      await this.redis.publish(prefixedChannel(this.redis, 'agent-runs:cancel'), runId);
    } else if (job && ['waiting', 'delayed', 'prioritized', 'waiting-children'].includes(state)) {
      await job.remove();
      await this.store.finish(runId, 'cancelled', 'CANCELLED: removed from the queue');
    } else {
      throw new AgentRunError('NOT_CANCELLABLE', `run "${runId}" is ${run.status}; only queued or running runs can be cancelled`);
    }
    return (await this.store.get(runId))!;
  }

  /** Runs a failed (dead-lettered) or cancelled run again, with fresh attempts. */
  async retry(runId: string): Promise<AgentRunRecord> {
    const run = await this.require(runId);
    const job = await this.queues.queue('agent-runs').getJob(runId);
    if (!job || (await job.getState()) !== 'failed') {
      throw new AgentRunError('NOT_RETRYABLE', `run "${runId}" is ${run.status}; only runs that failed for good can be retried`);
    }
    await this.store.reopen(runId);
    await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
    return (await this.store.get(runId))!;
  }

  /** Runs that exhausted their attempts (BullMQ's failed set), newest first. */
  async deadLetters(offset: number, limit: number) {
    const queue = this.queues.queue('agent-runs');
    const [jobs, total] = await Promise.all([queue.getFailed(offset, offset + limit - 1), queue.getFailedCount()]);
    return {
      total,
      items: jobs.map((j) => ({ runId: j.id!, name: j.name, payload: j.data as AgentRunPayload, error: j.failedReason, attemptsMade: j.attemptsMade, failedAt: j.finishedOn ?? 0 })),
    };
  }

  /** Drops a dead letter for good. */
  async discard(runId: string): Promise<void> {
    const job = await this.queues.queue('agent-runs').getJob(runId);
    if (!job || (await job.getState()) !== 'failed') throw new AgentRunError('NOT_RETRYABLE', `run "${runId}" is not in the dead-letter listing`);
    await job.remove();
  }

  async counts() {
    const out: Record<string, Record<string, number>> = {};
    for (const queue of this.queues.all()) {
      out[queue.name] = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed', 'waiting-children', 'prioritized');
    }
    return out;
  }

  async upsertSchedule(id: string, pattern: string, payload: AgentRunPayload, timezone?: string): Promise<ScheduleInfo> {
    await this.queues.queue('agent-runs').upsertJobScheduler(id, { pattern, ...(timezone ? { tz: timezone } : {}) }, { name: 'agent.run', data: { ...payload }, opts: this.jobOptions(payload) });
    return (await this.schedules()).find((s) => s.id === id)!;
  }

  async schedules(): Promise<ScheduleInfo[]> {
    const list = await this.queues.queue('agent-runs').getJobSchedulers(0, -1, true);
    return list.map((s) => ({ id: s.key, pattern: s.pattern ?? '', next: s.next, payload: (s.template?.data ?? {}) as AgentRunPayload }));
  }

  async removeSchedule(id: string): Promise<void> {
    const removed = await this.queues.queue('agent-runs').removeJobScheduler(id);
    if (!removed) throw new AgentRunError('UNKNOWN_SCHEDULE', `schedule "${id}" does not exist`, 'id');
  }

  private jobOptions(payload: AgentRunPayload): JobsOptions {
    const retention = this.config.AGENT_RUN_RETENTION_SECONDS;
    return {
      attempts: payload.retry?.attempts ?? this.config.AGENT_DEFAULT_ATTEMPTS,
      backoff: { type: 'exponential', delay: payload.retry?.backoffMs ?? 1000 },
      removeOnComplete: { age: retention },
      // Failed jobs stay: they are the dead-letter listing.
      removeOnFail: false,
    };
  }
}
