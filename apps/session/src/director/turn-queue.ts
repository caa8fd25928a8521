import { Inject, Injectable } from '@nestjs/common';
import { REDIS, Redis } from '@troupe/redis';
import type { TraceCarrier } from '@troupe/tracing';
import { randomUUID } from 'node:crypto';
import { SessionConfig } from '../session.config';
import { Turn } from './director';

/** A queued turn as stored: the turn, and whether its person's message is already in history. */
export interface QueuedTurn extends Turn {
  personRecorded?: boolean;
  /** The trace of the message that asked for the turn, continued by whichever instance runs it. */
  traceContext?: TraceCarrier;
}

const RENEW = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) else return 0 end`;
/** The turn in processing if any (resumed: 1), else the next waiting one moved there (0). KEYS: waiting, processing. */
const TAKE_NEXT = `
local interrupted = redis.call('LINDEX', KEYS[2], 0)
if interrupted then return {interrupted, 1} end
local moved = redis.call('LMOVE', KEYS[1], KEYS[2], 'LEFT', 'LEFT')
if moved then return {moved, 0} end
`;
const NEXT = `${TAKE_NEXT}return false`;
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`;
/**
 * Queues a turn and, when no instance directs the session, takes the lease and the next turn
 * at once (NEXT's reply), else false. KEYS: waiting, processing, lease, sessions with turns.
 * ARGV: turn JSON, session id, instance id, lease ms.
 */
const PUSH_AND_CLAIM = `
redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[4], ARGV[2])
if not redis.call('SET', KEYS[3], ARGV[3], 'PX', ARGV[4], 'NX') then return false end
${NEXT}`;
/**
 * Ends the running turn and takes the next (NEXT's reply); with none left, gives the lease up
 * in the same step (false), so a turn queued just after finds the session free and claims it.
 * KEYS: waiting, processing, lease. ARGV: instance id.
 */
const FINISH_AND_NEXT = `
redis.call('LPOP', KEYS[2])
${TAKE_NEXT}
if redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return false`;

type NextReply = [string, number] | null;
type TurnScripts = {
  troupeNextTurn(waiting: string, processing: string): Promise<NextReply>;
  troupePushAndClaimTurn(waiting: string, processing: string, lease: string, sessions: string, turn: string, sessionId: string, instanceId: string, leaseMs: string): Promise<NextReply>;
  troupeFinishAndNextTurn(waiting: string, processing: string, lease: string, instanceId: string): Promise<NextReply>;
};

/** A turn taken to run: the one a dead holder left half-done (resumed), or the next waiting one. */
export interface ClaimedTurn {
  turn: QueuedTurn;
  resumed: boolean;
}

const claimed = (found: NextReply): ClaimedTurn | undefined => (found ? { turn: JSON.parse(found[0]) as QueuedTurn, resumed: found[1] === 1 } : undefined);

/**
 * A session's turns in Redis, shared by every `session` instance: a waiting list, a
 * "processing" list holding the turn being run (a reliable-queue move, so a turn whose
 * instance died is found and run again), a lease naming the one instance that directs the
 * session, and a set of sessions with work so any instance can take over an abandoned one.
 */
@Injectable()
export class TurnQueue {
  /** This process, as lease holder. */
  readonly instanceId = randomUUID();

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: SessionConfig,
  ) {
    this.redis.defineCommand('troupeNextTurn', { numberOfKeys: 2, lua: NEXT });
    this.redis.defineCommand('troupePushAndClaimTurn', { numberOfKeys: 4, lua: PUSH_AND_CLAIM });
    this.redis.defineCommand('troupeFinishAndNextTurn', { numberOfKeys: 3, lua: FINISH_AND_NEXT });
  }

  private get scripts(): TurnScripts {
    return this.redis as unknown as TurnScripts;
  }

  /**
   * Queues a turn. When no instance directs the session, this one now does: it holds the lease
   * and gets the turn to run (one round trip instead of push, lease and next); else undefined,
   * and the holder runs the turn in its order.
   */
  async pushAndClaim(turn: QueuedTurn): Promise<ClaimedTurn | undefined> {
    const { sessionId } = turn;
    return claimed(
      await this.scripts.troupePushAndClaimTurn(
        this.waitingKey(sessionId),
        this.processingKey(sessionId),
        this.leaseKey(sessionId),
        'sessions-with-turns',
        JSON.stringify(turn),
        sessionId,
        this.instanceId,
        String(this.config.DIRECTOR_LEASE_MS),
      ),
    );
  }

  /** How many turns are waiting or running. */
  async depth(sessionId: string): Promise<number> {
    const [[, waiting], [, running]] = (await this.redis.multi().llen(this.waitingKey(sessionId)).llen(this.processingKey(sessionId)).exec()) as [
      [null, number],
      [null, number],
    ];
    return waiting + running;
  }

  /** The turn left half-done by a holder that died, else the next waiting one (moved to processing). */
  async next(sessionId: string): Promise<ClaimedTurn | undefined> {
    return claimed(await this.scripts.troupeNextTurn(this.waitingKey(sessionId), this.processingKey(sessionId)));
  }

  /**
   * Ends the running turn and takes the next one; when none waits, the lease is given up in the
   * same round trip (undefined). The holder's way from one turn to the next.
   */
  async finishAndNext(sessionId: string): Promise<ClaimedTurn | undefined> {
    return claimed(await this.scripts.troupeFinishAndNextTurn(this.waitingKey(sessionId), this.processingKey(sessionId), this.leaseKey(sessionId), this.instanceId));
  }

  /** Records progress on the running turn, so a successor does not repeat it. */
  async update(turn: QueuedTurn): Promise<void> {
    await this.redis.lset(this.processingKey(turn.sessionId), 0, JSON.stringify(turn));
  }

  async finish(sessionId: string): Promise<void> {
    await this.redis.lpop(this.processingKey(sessionId));
  }

  /** Removes waiting turns (all, or one by id) and returns them. */
  async removeWaiting(sessionId: string, turnId?: string): Promise<QueuedTurn[]> {
    const key = this.waitingKey(sessionId);
    const removed: QueuedTurn[] = [];
    for (const raw of await this.redis.lrange(key, 0, -1)) {
      const turn = JSON.parse(raw) as QueuedTurn;
      if (turnId && turn.turnId !== turnId) continue;
      if ((await this.redis.lrem(key, 1, raw)) > 0) removed.push(turn);
    }
    return removed;
  }

  async running(sessionId: string): Promise<QueuedTurn | undefined> {
    const raw = await this.redis.lindex(this.processingKey(sessionId), 0);
    return raw ? (JSON.parse(raw) as QueuedTurn) : undefined;
  }

  async acquireLease(sessionId: string): Promise<boolean> {
    return (await this.redis.set(this.leaseKey(sessionId), this.instanceId, 'PX', this.config.DIRECTOR_LEASE_MS, 'NX')) === 'OK';
  }

  async renewLease(sessionId: string): Promise<boolean> {
    return Number(await this.redis.eval(RENEW, 1, this.leaseKey(sessionId), this.instanceId, String(this.config.DIRECTOR_LEASE_MS))) === 1;
  }

  async releaseLease(sessionId: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.leaseKey(sessionId), this.instanceId);
  }

  /** Sessions that have turns but no lease holder (their director died or just finished). */
  async orphans(): Promise<string[]> {
    const orphans: string[] = [];
    let cursor = '0';
    do {
      const [next, ids] = await this.redis.sscan('sessions-with-turns', cursor, 'COUNT', 200);
      cursor = next;
      if (ids.length === 0) continue;
      // One round trip per page, not three per session: the sweep runs every few seconds
      // over every session with turns.
      const pipeline = this.redis.pipeline();
      for (const id of ids) pipeline.llen(this.waitingKey(id)).llen(this.processingKey(id)).exists(this.leaseKey(id));
      const replies = ((await pipeline.exec()) ?? []).map(([error, value]) => {
        if (error) throw error;
        return Number(value);
      });
      const idle: string[] = [];
      ids.forEach((id, i) => {
        const [waiting, running, leased] = replies.slice(i * 3, i * 3 + 3);
        if (waiting + running === 0) idle.push(id);
        else if (!leased) orphans.push(id);
      });
      if (idle.length) await this.redis.srem('sessions-with-turns', ...idle);
    } while (cursor !== '0');
    return orphans;
  }

  private waitingKey(sessionId: string): string {
    return `session:${sessionId}:turns`;
  }

  private processingKey(sessionId: string): string {
    return `session:${sessionId}:turn-running`;
  }

  private leaseKey(sessionId: string): string {
    return `session:${sessionId}:director`;
  }
}
