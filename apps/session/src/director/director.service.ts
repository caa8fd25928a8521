import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { GrpcCallError, GrpcStatus } from '@troupe/grpc';
import { ChatError } from '@troupe/domain';
import { APP_LOGGER, Logger, withLogContext } from '@troupe/logging';
import { MetricsService } from '@troupe/metrics';
import { InferenceClient } from '../peers/inference.client';
import { RoleContextClient } from '../peers/role-context.client';
import { SessionEventsService } from '../events/session-events.service';
import { Turn, TurnRunner } from './turn-runner';

function describeError(e: unknown): ChatError {
  if (e instanceof GrpcCallError) {
    const unavailable = [GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED].includes(e.code);
    return { code: unavailable ? 'UPSTREAM_UNAVAILABLE' : 'INTERNAL', message: e.message };
  }
  return { code: 'INTERNAL', message: (e as Error).message ?? String(e) };
}

/**
 * Runs turns one at a time per session (a message sent while roles are answering waits its
 * turn), and lets a client cancel the turn in progress.
 */
@Injectable()
export class DirectorService implements OnApplicationShutdown {
  private readonly runner: TurnRunner;
  private readonly queues = new Map<string, Promise<void>>();
  private readonly running = new Map<string, { sessionId: string; abort: AbortController }>();
  private readonly turnDuration;

  constructor(
    roleContext: RoleContextClient,
    inference: InferenceClient,
    private readonly events: SessionEventsService,
    metrics: MetricsService,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.runner = new TurnRunner(
      {
        appendHistory: (r) => roleContext.appendHistory(r),
        assembleContext: (r) => roleContext.assembleContext(r),
        generate: (r, signal) => inference.generate(r, { signal }),
        emit: (sessionId, event, payload) => events.publish(sessionId, event, payload),
      },
      describeError,
    );
    this.turnDuration = metrics.histogram('troupe_turn_duration_seconds', 'One human message and all its replies', ['outcome'], [
      0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]);
  }

  /** Queues a turn behind the session's current one; resolves when it has run. */
  enqueue(turn: Turn): Promise<void> {
    const abort = new AbortController();
    this.running.set(turn.turnId, { sessionId: turn.sessionId, abort });
    const previous = this.queues.get(turn.sessionId) ?? Promise.resolve();
    const next = previous.then(() => this.run(turn, abort));
    this.queues.set(turn.sessionId, next);
    void next.finally(() => {
      if (this.queues.get(turn.sessionId) === next) this.queues.delete(turn.sessionId);
    });
    return next;
  }

  /** Cancels one turn, or every queued and running turn of the session; returns how many. */
  cancel(sessionId: string, turnId?: string): number {
    let cancelled = 0;
    for (const [id, entry] of this.running) {
      if (entry.sessionId === sessionId && (!turnId || id === turnId) && !entry.abort.signal.aborted) {
        entry.abort.abort();
        cancelled++;
      }
    }
    return cancelled;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
  }

  private async run(turn: Turn, abort: AbortController): Promise<void> {
    const started = process.hrtime.bigint();
    try {
      if (abort.signal.aborted) return;
      await withLogContext({ sessionId: turn.sessionId, turnId: turn.turnId }, async () => {
        const replies = await this.runner.run(turn, abort.signal);
        this.logger.info({ replies: replies.map((r) => ({ role: r.roleId, finish: r.finishReason, usage: r.usage })) }, 'turn finished');
        this.turnDuration.observe({ outcome: abort.signal.aborted ? 'cancelled' : 'ok' }, Number(process.hrtime.bigint() - started) / 1e9);
      });
    } catch (e) {
      this.turnDuration.observe({ outcome: 'error' }, Number(process.hrtime.bigint() - started) / 1e9);
      this.logger.error({ err: e, sessionId: turn.sessionId, turnId: turn.turnId }, 'turn failed');
      this.events.publish(turn.sessionId, 'chat.error', { ...describeError(e), event: 'message.send' });
    } finally {
      this.running.delete(turn.turnId);
    }
  }
}
