import { Redis } from '@troupe/redis';
import { randomBytes } from 'node:crypto';
import { TEST_REDIS_URL, deleteKeysWithPrefix } from '../../../../test/support/redis-cleanup';
import { SessionConfig } from '../session.config';
import { DEFAULT_SESSION_POLICY } from './session-policy';
import { QueuedTurn, TurnQueue } from './turn-queue';

// Integration with the real Redis: queuing a turn takes a free session's lease and its turn in
// one script, and ending a turn takes the next or gives the lease up in one; these check that
// no turn is lost or run twice in the gaps the separate commands used to leave.
describe('TurnQueue on Redis', () => {
  const prefix = `troupe-test:${randomBytes(4).toString('hex')}:`;
  const config = Object.assign(new SessionConfig(), { DIRECTOR_LEASE_MS: 60_000 });
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
  // Two instances of the service, each its own lease holder.
  const [a, b] = [new TurnQueue(redis, config), new TurnQueue(redis, config)];
  const turn = (sessionId: string, turnId: string): QueuedTurn => ({
    sessionId,
    turnId,
    text: `message ${turnId}`,
    author: 'Ada',
    authorId: 'ada',
    roles: [],
    policy: DEFAULT_SESSION_POLICY,
  });

  afterAll(async () => {
    await deleteKeysWithPrefix(prefix);
    redis.disconnect();
  });

  it('claims a free session with its turn at once; while it directs, later turns only queue', async () => {
    const claimed = await a.pushAndClaim(turn('s1', 't1'));
    expect(claimed).toEqual({ turn: expect.objectContaining({ turnId: 't1' }), resumed: false });
    expect((await a.running('s1'))?.turnId).toBe('t1');
    expect(await redis.get('session:s1:director')).toBe(a.instanceId);
    // Another instance, or this one again: queued behind, not claimed.
    expect(await b.pushAndClaim(turn('s1', 't2'))).toBeUndefined();
    expect(await a.pushAndClaim(turn('s1', 't3'))).toBeUndefined();
    expect(await a.depth('s1')).toBe(3);
    expect(await redis.sismember('sessions-with-turns', 's1')).toBe(1);
  });

  it('goes from turn to turn in order and gives the lease up with the last one', async () => {
    expect((await a.finishAndNext('s1'))?.turn.turnId).toBe('t2');
    expect((await a.finishAndNext('s1'))?.turn.turnId).toBe('t3');
    expect(await redis.get('session:s1:director')).toBe(a.instanceId);
    expect(await a.finishAndNext('s1')).toBeUndefined();
    expect(await redis.get('session:s1:director')).toBeNull();
    expect(await a.depth('s1')).toBe(0);
    // The session is free again: the next turn's instance claims it.
    expect((await b.pushAndClaim(turn('s1', 't4')))?.turn.turnId).toBe('t4');
    expect(await redis.get('session:s1:director')).toBe(b.instanceId);
    expect(await b.finishAndNext('s1')).toBeUndefined();
  });

  it('never releases a lease another instance holds', async () => {
    await a.pushAndClaim(turn('s2', 't1'));
    // a's lease lapsed and b took the session over.
    await redis.del('session:s2:director');
    expect(await b.acquireLease('s2')).toBe(true);
    expect(await a.finishAndNext('s2')).toBeUndefined();
    expect(await redis.get('session:s2:director')).toBe(b.instanceId);
  });

  it('resumes first the turn a holder that died left running', async () => {
    await a.pushAndClaim(turn('s3', 't1'));
    // a dies mid-turn: its lease lapses, its turn stays in processing.
    await redis.del('session:s3:director');
    const next = await b.pushAndClaim(turn('s3', 't2'));
    expect(next).toEqual({ turn: expect.objectContaining({ turnId: 't1' }), resumed: true });
    expect((await b.finishAndNext('s3'))?.turn.turnId).toBe('t2');
    expect(await b.finishAndNext('s3')).toBeUndefined();
  });
});
