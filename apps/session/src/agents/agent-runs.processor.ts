import { BeforeApplicationShutdown, Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { AgentQueueName, AgentRunPayload, AgentRunResult, AgentWebhookPayload } from '@troupe/domain';
import { GrpcCallError, GrpcStatus } from '@troupe/grpc';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { inJobSpan } from '@troupe/tracing';
import { Job, UnrecoverableError, WaitingChildrenError, Worker } from 'bullmq';
import { randomUUID } from 'node:crypto';
import { AgentQueues } from './agent-queues';
import { AgentRunStore } from './agent-run.store';
import { AgentRunner } from './agent-runner';
import { AgentRunsService } from './agent-runs.service';
import { AgentAnnouncer } from './agent-announcer';
import { JobContext, JobHandlers, assertHandlersCover, validatePayload } from './job-handlers';
import { SessionConfig } from '../session.config';

/**
 * The BullMQ workers of this instance: one per queue of the typed map, each dispatching to a
 * handler map checked at start. Shutdown stops taking jobs and waits for those in hand (a
 * process killed before they end leaves them to stall and be taken up elsewhere).
 */
@Injectable()
export class AgentRunsProcessor implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly workers: Worker[] = [];
  private readonly handlers: Record<AgentQueueName, JobHandlers>;

  constructor(
    private readonly queues: AgentQueues,
    private readonly store: AgentRunStore,
    private readonly runner: AgentRunner,
    private readonly runs: AgentRunsService,
    private readonly announcer: AgentAnnouncer,
    private readonly config: SessionConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.handlers = {
      'agent-runs': { 'agent.run': (p, c) => this.runAgent(p, c) },
      'agent-webhooks': { 'agent.webhook': (p) => this.announcer.postWebhook(p) },
    };
    for (const [queue, handlers] of Object.entries(this.handlers)) assertHandlersCover(queue as AgentQueueName, handlers);
  }

  onApplicationBootstrap(): void {
    if (this.config.AGENT_WORKER_CONCURRENCY === 0) return;
    const payloadClass: Record<string, new () => object> = { 'agent.run': AgentRunPayload, 'agent.webhook': AgentWebhookPayload };
    for (const [queue, handlers] of Object.entries(this.handlers) as [AgentQueueName, JobHandlers][]) {
      const worker = this.queues.worker(
        queue,
        (job: Job, token?: string, signal?: AbortSignal) =>
          // The job continues the trace its producer put in its data; waiting for children is no failure.
          inJobSpan(
            queue,
            job,
            async () => {
              const handler = handlers[job.name as keyof JobHandlers] as ((p: unknown, c: JobContext) => Promise<unknown>) | undefined;
              if (!handler) throw new UnrecoverableError(`UNKNOWN_JOB: no handler for "${job.name}" on ${queue}`);
              const payload = await validatePayload(payloadClass[job.name], job.data);
              return handler(payload, { jobId: job.id!, token, signal, job } as JobContext);
            },
            { isFailure: (e) => !(e instanceof WaitingChildrenError) },
          ),
        {
          concurrency: this.config.AGENT_WORKER_CONCURRENCY,
          lockDuration: this.config.AGENT_LOCK_MS,
          stalledInterval: this.config.AGENT_STALLED_INTERVAL_MS,
          maxStalledCount: this.config.AGENT_MAX_STALLED,
        },
      );
      worker.on('failed', (job, err) => void this.onFailed(queue, job, err));
      worker.on('error', (err) => this.logger.error({ err, queue }, 'agent worker error'));
      this.workers.push(worker);
    }
    this.runs.onCancel((runId) => this.workers.forEach((w) => w.cancelJob(runId, 'cancelled')));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await Promise.allSettled(this.workers.map((w) => w.close()));
  }

  private async runAgent(payload: AgentRunPayload, context: JobContext & { job?: Job }): Promise<AgentRunResult | { duplicateOf: string }> {
    const runId = context.jobId;
    const job = context.job!;
    // The role lookup (gRPC) needs nothing from the run's record: it overlaps the Redis work below.
    const role = this.runner.lookUpRole(payload.role);
    // A session of the run's own, unless the payload names one or an earlier attempt chose it.
    const ownSession = payload.sessionId ? '' : randomUUID();
    // The record as it was (a run enqueued through the API, a re-delivered job), or a new one. A
    // new run with no idempotency key to claim and its deadline ahead is recorded as started.
    const startNow = !payload.idempotencyKey && !deadlinePassed(payload);
    const before = await this.store.create(
      { runId, role: payload.role, task: payload.task, sessionId: payload.sessionId ?? '', parentRunId: payload.parentRunId ?? '', idempotencyKey: payload.idempotencyKey ?? '' },
      startNow ? payload.sessionId || ownSession : undefined,
    );
    const startedByCreate = startNow && before === undefined;
    if (payload.idempotencyKey) {
      const holder = await this.store.claimIdempotencyKey(payload.idempotencyKey, runId);
      if (holder !== runId) {
        await this.store.finish(runId, 'cancelled', `DUPLICATE: idempotency key already used by run ${holder}`);
        return { duplicateOf: holder };
      }
    }
    // A re-delivered job whose result is stored already (its worker died after storing it).
    if (before?.status === 'completed' && before.result) return before.result;
    if (deadlinePassed(payload)) throw new UnrecoverableError('DEADLINE_EXCEEDED: the run\'s deadline has passed');

    const abort = new AbortController();
    const onAbort = () => abort.abort('cancelled');
    context.signal?.addEventListener('abort', onAbort, { once: true });
    const deadlineTimer = payload.deadline ? setTimeout(() => abort.abort('deadline'), Math.max(0, Date.parse(payload.deadline) - Date.now())) : undefined;
    try {
      const childResults = before?.status === 'waiting-children' ? await this.childResults(job) : undefined;
      const sessionId = before?.sessionId || payload.sessionId || ownSession;
      const attempt = startedByCreate ? 1 : await this.store.startAttempt(runId, sessionId);
      void job.updateProgress({ stage: childResults ? 'after-children' : 'started', attempt }).catch((e: unknown) => this.logger.warn({ err: e, runId }, 'progress not noted'));
      const { result, delegations, outcome } = await this.runner
        .run({ runId, payload, role, sessionId, openSession: sessionId === ownSession, childResults }, abort.signal)
        .catch((e: unknown) => {
          // An unknown role or session will not appear by retrying.
          if (e instanceof GrpcCallError && e.code === GrpcStatus.NOT_FOUND) throw new UnrecoverableError(`NOT_FOUND: ${e.message}`);
          if (e instanceof Error && e.name === 'ChatException') throw new UnrecoverableError(`${(e as Error & { code: string }).code}: ${e.message}`);
          throw e;
        });
      if (abort.signal.aborted) {
        throw new UnrecoverableError(abort.signal.reason === 'deadline' ? 'DEADLINE_EXCEEDED: the run\'s deadline passed' : 'CANCELLED: the run was cancelled');
      }
      if (outcome.reason === 'error') throw new Error(`TURN_FAILED: ${outcome.detail}`);
      if (delegations.length && !childResults) {
        await this.runs.addChildren(job, payload, delegations);
        await this.store.update(runId, { status: 'waiting-children' });
        if (await job.moveToWaitingChildren(context.token!)) throw new WaitingChildrenError();
        // Every child had finished already: take their results now.
        return this.runAgent(payload, context);
      }
      const [, completed] = await Promise.all([job.updateProgress({ stage: 'done', attempt }), this.store.complete(runId, result)]);
      if (completed) {
        await this.announcer.announce(runId, payload, { sessionId: result.sessionId, role: payload.role, status: 'completed', result, error: '' });
      }
      return result;
    } finally {
      clearTimeout(deadlineTimer);
      context.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async childResults(job: Job): Promise<Record<string, AgentRunResult>> {
    const values = await job.getChildrenValues<AgentRunResult>();
    // Keys are "bull:agent-runs:<id>"; the result carries its own run id.
    return Object.fromEntries(Object.values(values).map((r) => [r.runId, r]));
  }

  /** Retrying: noted on the run. Out of attempts (or unrecoverable): the run ends failed, announced once. */
  private async onFailed(queue: AgentQueueName, job: Job | undefined, err: Error): Promise<void> {
    if (!job || queue !== 'agent-runs') {
      this.logger.warn({ err, queue, jobId: job?.id }, 'job failed');
      return;
    }
    try {
      const final = err instanceof UnrecoverableError || err.name === 'UnrecoverableError' || job.attemptsMade >= (job.opts.attempts ?? 1);
      if (!final) {
        await this.store.update(job.id!, { status: 'queued', error: err.message });
        return;
      }
      // A payload refused by validation never got a record: give it one, so the failure shows.
      const data = (job.data ?? {}) as Record<string, unknown>;
      await this.store.create({ runId: job.id!, role: String(data.role ?? ''), task: String(data.task ?? ''), sessionId: '', parentRunId: '', idempotencyKey: '' });
      const cancelled = err.message.startsWith('CANCELLED');
      if (await this.store.finish(job.id!, cancelled ? 'cancelled' : 'failed', err.message)) await this.announcer.announce(job.id!, job.data as AgentRunPayload);
    } catch (e) {
      this.logger.error({ err: e, runId: job.id }, 'run failure not recorded');
    }
  }
}

const deadlinePassed = (payload: AgentRunPayload) => !!payload.deadline && Date.parse(payload.deadline) <= Date.now();
