import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { ConcurrentInputPolicy, TurnStopReason } from '@troupe/domain';
import { APP_LOGGER, Logger, withLogContext } from '@troupe/logging';
import { MetricsService } from '@troupe/metrics';
import { REDIS, Redis, RedisSubscriber, prefixedChannel } from '@troupe/redis';
import { injectTraceContext, withTraceContext } from '@troupe/tracing';
import { ChatException } from '../chat/chat.exception';
import { SessionEventsService } from '../events/session-events.service';
import { SessionConfig } from '../session.config';
import { AbortReason, Director, Turn } from './director';
import { DirectorPortsFactory, describeUpstreamError } from './director-ports.factory';
import { ClaimedTurn, QueuedTurn, TurnQueue } from './turn-queue';

/** Stops a running turn wherever it runs: every instance hears it and aborts its own. */
interface DirectorControl {
  sessionId: string;
  turnId?: string;
  reason: AbortReason;
}

/** What a new message does to turns already waiting or running, per the session's policy. */
const WHEN_BUSY: Record<ConcurrentInputPolicy, AbortReason | 'queue' | 'refuse'> = {
  enqueue: 'queue',
  reject: 'refuse',
  interrupt: 'interrupted',
  rollback: 'rolled_back',
};

/**
 * Directs sessions across `session` instances. Turns wait in Redis; one instance at a time
 * holds a session's lease and runs its turns in order; if it dies, the lease lapses and any
 * other instance takes the session over, re-running the turn that was cut short. Cancels and
 * interrupts reach the turn wherever it runs over pub/sub.
 */
@Injectable()
export class DirectorService implements OnModuleInit, OnApplicationShutdown {
  private readonly director: Director;
  private readonly active = new Map<string, { sessionId: string; abort: AbortController }>();
  private readonly driving = new Map<string, Promise<void>>();
  private readonly controlChannel: string;
  private readonly turnDuration;
  private sweeper?: NodeJS.Timeout;
  private stopping = false;

  constructor(
    ports: DirectorPortsFactory,
    private readonly queue: TurnQueue,
    private readonly events: SessionEventsService,
    private readonly config: SessionConfig,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly subscriber: RedisSubscriber,
    metrics: MetricsService,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.director = new Director(ports.create());
    this.controlChannel = prefixedChannel(redis, 'director-control');
    this.turnDuration = metrics.histogram('troupe_turn_duration_seconds', 'One person message and all its replies', ['reason'], [
      0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
    ]);
  }

  async onModuleInit(): Promise<void> {
    await this.subscriber.subscribe(this.controlChannel, (message) => this.applyControl(JSON.parse(message) as DirectorControl));
    // Picks up sessions whose director died (their lease lapsed) or whose turn was queued elsewhere.
    this.sweeper = setInterval(() => void this.adoptOrphans(), Math.max(250, Math.floor(this.config.DIRECTOR_LEASE_MS / 2)));
    this.sweeper.unref();
  }

  /**
   * Accepts a person's message under the session's concurrent-input policy (may throw BUSY),
   * shows it to the room, and queues its turn.
   */
  async submit(turn: Turn): Promise<void> {
    const whenBusy = WHEN_BUSY[turn.policy.concurrentInput];
    // Queuing behind whatever runs (the default) needs no look at the queue first: one Redis
    // round trip fewer on the way to the first token.
    const busy = whenBusy !== 'queue' && (await this.queue.depth(turn.sessionId)) > 0;
    if (busy && whenBusy === 'refuse') {
      throw new ChatException('BUSY', 'the roles are still answering; wait for turn.end or cancel', 'sessionId');
    }
    if (busy && whenBusy !== 'refuse') {
      await this.dropWaiting(turn.sessionId, undefined, whenBusy);
      await this.signal({ sessionId: turn.sessionId, reason: whenBusy });
    }
    // Logged before the turn is queued, so the message precedes everything said about it, even
    // when another instance runs the turn. An append that went out at once is ahead of the
    // queuing on the connection, so only one that waits behind another is waited for: one
    // round trip fewer on the way to the first token.
    const sent = this.events.publish(turn.sessionId, 'message.user', { sessionId: turn.sessionId, turnId: turn.turnId, author: turn.author, text: turn.text });
    if (!sent) await this.events.logged(turn.sessionId);
    // Queued, and when no instance directs the session, claimed by this one in the same round trip.
    const claimed = await this.queue.pushAndClaim({ ...turn, traceContext: injectTraceContext() });
    if (claimed) void this.drive(turn.sessionId, claimed);
  }

  /** Cancels one turn, or every waiting and running turn of the session; returns how many. */
  async cancel(sessionId: string, turnId?: string): Promise<number> {
    const dropped = await this.dropWaiting(sessionId, turnId, 'cancelled');
    const running = await this.queue.running(sessionId);
    if (running && (!turnId || running.turnId === turnId)) {
      await this.signal({ sessionId, turnId: running.turnId, reason: 'cancelled' });
      return dropped + 1;
    }
    return dropped;
  }

  async onApplicationShutdown(): Promise<void> {
    // Finish the turns in hand, take no new ones; other instances adopt what is left.
    this.stopping = true;
    clearInterval(this.sweeper);
    // A turn claimed meanwhile (a message accepted just before) joins the ones awaited.
    while (this.driving.size > 0) await Promise.allSettled([...this.driving.values()]);
    // Their last events may still wait behind an append in flight.
    await this.events.drained();
  }

  /**
   * Directs the session while turns wait: with `claimed`, this instance already holds the lease
   * and that turn; without, it tries to take the lease (an orphaned session). A turn claimed
   * while this instance's previous drive of the session is still winding down runs after it.
   */
  private drive(sessionId: string, claimed?: ClaimedTurn): Promise<void> {
    const current = this.driving.get(sessionId);
    if (current && !claimed) return current;
    if (this.stopping && !claimed) return Promise.resolve();
    const run = (current ?? Promise.resolve())
      .then(() => this.driveWhileLeased(sessionId, claimed))
      .catch((e) => this.logger.error({ err: e, sessionId }, 'directing the session failed'))
      .finally(() => {
        if (this.driving.get(sessionId) === run) this.driving.delete(sessionId);
      });
    this.driving.set(sessionId, run);
    return run;
  }

  private async driveWhileLeased(sessionId: string, claimed?: ClaimedTurn): Promise<void> {
    if (!claimed && !(await this.queue.acquireLease(sessionId))) return;
    const renew = setInterval(() => void this.queue.renewLease(sessionId).catch(() => undefined), Math.floor(this.config.DIRECTOR_LEASE_MS / 3));
    // finishAndNext gives the lease up itself when no turn is left.
    let leased = true;
    try {
      let next = claimed ?? (await this.queue.next(sessionId));
      while (next) {
        if (next.resumed) this.logger.warn({ sessionId, turnId: next.turn.turnId }, 'taking over a turn whose director stopped');
        await this.run(next.turn);
        if (this.stopping) {
          // Finish the turn in hand, take no new one: other instances adopt what waits.
          await this.queue.finish(sessionId);
          break;
        }
        next = await this.queue.finishAndNext(sessionId);
        leased = next !== undefined;
      }
    } finally {
      clearInterval(renew);
      if (leased) await this.queue.releaseLease(sessionId);
    }
  }

  private async run(turn: QueuedTurn): Promise<void> {
    const abort = new AbortController();
    this.active.set(turn.turnId, { sessionId: turn.sessionId, abort });
    const started = process.hrtime.bigint();
    try {
      // The turn continues the trace of the message that queued it (whichever instance took it).
      await withTraceContext(turn.traceContext, () =>
        withLogContext({ sessionId: turn.sessionId, turnId: turn.turnId }, async () => {
          const outcome = await this.director.run(turn, abort.signal, {
            personRecorded: turn.personRecorded,
            onPersonRecorded: () => this.queue.update({ ...turn, personRecorded: true }),
          });
          this.logger.info(
            { reason: outcome.reason, detail: outcome.detail, replies: outcome.replies.map((r) => ({ role: r.roleId, finish: r.finishReason })), usage: outcome.usage },
            'turn finished',
          );
          this.turnDuration.observe({ reason: outcome.reason }, Number(process.hrtime.bigint() - started) / 1e9);
        }),
      );
    } catch (e) {
      this.turnDuration.observe({ reason: 'error' }, Number(process.hrtime.bigint() - started) / 1e9);
      this.logger.error({ err: e, sessionId: turn.sessionId, turnId: turn.turnId }, 'turn failed');
      this.events.publish(turn.sessionId, 'chat.error', { ...describeUpstreamError(e), event: 'message.send' });
      this.endWithoutReplies(turn, 'error', describeUpstreamError(e).message);
    } finally {
      this.active.delete(turn.turnId);
    }
  }

  /** Removes waiting turns and tells the room each one ended without an answer. */
  private async dropWaiting(sessionId: string, turnId: string | undefined, reason: AbortReason): Promise<number> {
    const dropped = await this.queue.removeWaiting(sessionId, turnId);
    for (const turn of dropped) this.endWithoutReplies(turn, reason, 'dropped before it started');
    return dropped.length;
  }

  private endWithoutReplies(turn: Turn, reason: TurnStopReason, detail: string): void {
    this.events.publish(turn.sessionId, 'turn.end', {
      sessionId: turn.sessionId,
      turnId: turn.turnId,
      reason,
      detail,
      replies: 0,
      usage: { promptTokens: 0, completionTokens: 0 },
    });
  }

  private async signal(control: DirectorControl): Promise<void> {
    this.applyControl(control);
    await this.redis.publish(this.controlChannel, JSON.stringify(control));
  }

  private applyControl(control: DirectorControl): void {
    for (const [turnId, entry] of this.active) {
      if (entry.sessionId === control.sessionId && (!control.turnId || control.turnId === turnId) && !entry.abort.signal.aborted) {
        entry.abort.abort(control.reason);
      }
    }
  }

  private async adoptOrphans(): Promise<void> {
    if (this.stopping) return;
    try {
      for (const sessionId of await this.queue.orphans()) void this.drive(sessionId);
    } catch (e) {
      this.logger.warn({ err: e }, 'looking for sessions without a director failed');
    }
  }
}
