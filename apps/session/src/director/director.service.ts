import { Inject, Injectable, OnApplicationShutdown } from '@nestjs/common';
import { ChatError, ConcurrentInputPolicy } from '@troupe/domain';
import { GrpcCallError, GrpcStatus } from '@troupe/grpc';
import { APP_LOGGER, Logger, withLogContext } from '@troupe/logging';
import { MetricsService } from '@troupe/metrics';
import { ApprovalsService } from '../approvals/approvals.service';
import { ChatException } from '../chat/chat.exception';
import { SessionEventsService } from '../events/session-events.service';
import { InferenceClient } from '../peers/inference.client';
import { RoleContextClient } from '../peers/role-context.client';
import { ToolPluginClient } from '../peers/tool-plugin.client';
import { AbortReason, Director, Turn } from './director';
import { SessionBudget } from './session-budget';

function describeError(e: unknown): ChatError {
  if (e instanceof GrpcCallError) {
    const unavailable = [GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED].includes(e.code);
    return { code: unavailable ? 'UPSTREAM_UNAVAILABLE' : 'INTERNAL', message: e.message };
  }
  return { code: 'INTERNAL', message: (e as Error).message ?? String(e) };
}

interface ActiveTurn {
  sessionId: string;
  abort: AbortController;
}

/** What to do with the turns already running or queued when a new message arrives. */
const CONCURRENT_INPUT: Record<ConcurrentInputPolicy, (active: ActiveTurn[]) => void> = {
  enqueue: () => undefined,
  reject: (active) => {
    if (active.length > 0) throw new ChatException('BUSY', 'the roles are still answering; wait for turn.end or cancel', 'sessionId');
  },
  interrupt: (active) => active.forEach((t) => t.abort.abort('interrupted' satisfies AbortReason)),
  rollback: (active) => active.forEach((t) => t.abort.abort('rolled_back' satisfies AbortReason)),
};

/**
 * Runs turns one at a time per session, applies the session's policy for messages that
 * arrive while roles are answering, and lets people cancel.
 */
@Injectable()
export class DirectorService implements OnApplicationShutdown {
  private readonly director: Director;
  private readonly queues = new Map<string, Promise<void>>();
  private readonly active = new Map<string, ActiveTurn>();
  private readonly turnDuration;

  constructor(
    roleContext: RoleContextClient,
    inference: InferenceClient,
    toolPlugin: ToolPluginClient,
    budget: SessionBudget,
    approvals: ApprovalsService,
    private readonly events: SessionEventsService,
    metrics: MetricsService,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.director = new Director({
      appendHistory: (r) => roleContext.appendHistory(r),
      assembleContext: (r) => roleContext.assembleContext(r),
      generate: (r, signal) => inference.generate(r, { signal }),
      invokeTool: (r, signal) => toolPlugin.invokeTool(r, { signal }),
      emit: (sessionId, event, payload) => events.publish(sessionId, event, payload),
      chargeSession: (sessionId, tokens, toolCalls) => budget.charge(sessionId, tokens, toolCalls),
      describeError,
      awaitApproval: (request, signal) => approvals.request(request, signal),
    });
    this.turnDuration = metrics.histogram('troupe_turn_duration_seconds', 'One person message and all its replies', ['reason'], [
      0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]);
  }

  /** Accepts a message under the session's concurrent-input policy (may throw BUSY) and queues its turn. */
  submit(turn: Turn): Promise<void> {
    const active = [...this.active.values()].filter((t) => t.sessionId === turn.sessionId && !t.abort.signal.aborted);
    CONCURRENT_INPUT[turn.policy.concurrentInput](active);
    const abort = new AbortController();
    this.active.set(turn.turnId, { sessionId: turn.sessionId, abort });
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
    for (const [id, entry] of this.active) {
      if (entry.sessionId === sessionId && (!turnId || id === turnId) && !entry.abort.signal.aborted) {
        entry.abort.abort('cancelled' satisfies AbortReason);
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
      await withLogContext({ sessionId: turn.sessionId, turnId: turn.turnId }, async () => {
        if (abort.signal.aborted) {
          // Dropped while queued (cancel, interrupt or rollback): say so, run nothing.
          const reason = (abort.signal.reason as AbortReason) ?? 'cancelled';
          this.events.publish(turn.sessionId, 'turn.end', {
            sessionId: turn.sessionId,
            turnId: turn.turnId,
            reason,
            detail: 'dropped before it started',
            replies: 0,
            usage: { promptTokens: 0, completionTokens: 0 },
          });
          return;
        }
        const outcome = await this.director.run(turn, abort.signal);
        this.logger.info(
          { reason: outcome.reason, detail: outcome.detail, replies: outcome.replies.map((r) => ({ role: r.roleId, finish: r.finishReason })), usage: outcome.usage },
          'turn finished',
        );
        this.turnDuration.observe({ reason: outcome.reason }, Number(process.hrtime.bigint() - started) / 1e9);
      });
    } catch (e) {
      this.turnDuration.observe({ reason: 'error' }, Number(process.hrtime.bigint() - started) / 1e9);
      this.logger.error({ err: e, sessionId: turn.sessionId, turnId: turn.turnId }, 'turn failed');
      this.events.publish(turn.sessionId, 'chat.error', { ...describeError(e), event: 'message.send' });
      this.events.publish(turn.sessionId, 'turn.end', {
        sessionId: turn.sessionId,
        turnId: turn.turnId,
        reason: 'error',
        detail: describeError(e).message,
        replies: 0,
        usage: { promptTokens: 0, completionTokens: 0 },
      });
    } finally {
      this.active.delete(turn.turnId);
    }
  }
}
