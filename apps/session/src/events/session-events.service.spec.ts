import type { Logger } from '@troupe/logging';
import type { MetricsService } from '@troupe/metrics';
import { Redis, RedisSubscriber } from '@troupe/redis';
import { randomBytes } from 'node:crypto';
import { TEST_REDIS_URL, deleteKeysWithPrefix } from '../../../../test/support/redis-cleanup';
import { SessionConfig } from '../session.config';
import { DeliveryTarget } from './event-delivery';
import { SessionEventLog } from './session-event-log';
import { SessionEventsService } from './session-events.service';

const quiet = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;
const metrics = { gauge() {} } as unknown as MetricsService;

/** A connected client as delivery sees it: records what it is sent. */
class RecordingTarget implements DeliveryTarget {
  readonly received: { event: string; seq: number; text?: unknown }[] = [];
  constructor(readonly id: string) {}
  emit(event: string, payload: { seq: number; text?: unknown }): void {
    this.received.push({ event, seq: payload.seq, text: payload.text });
  }
  pendingPackets(): number {
    return 0;
  }
  waitForDrain(): Promise<boolean> {
    return Promise.resolve(true);
  }
  dropAsSlow(): void {}
}

const until = async (check: () => boolean, ms = 5_000) => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
};

// Two instances of the service on the real Redis: each delivers its own appends to its
// clients straight away and skips their pub/sub echo; the other's arrive over pub/sub.
describe('SessionEventsService on Redis', () => {
  const prefix = `troupe-test:${randomBytes(4).toString('hex')}:`;
  const config = Object.assign(new SessionConfig(), { TOKEN_STREAM_INTERVAL_MS: 0, TOKEN_STREAM_INTERVAL_MAX_MS: 0 });
  const connections: Redis[] = [];
  const services: SessionEventsService[] = [];
  const subscribers: RedisSubscriber[] = [];

  function instance(): { events: SessionEventsService; subscriberConnection: Redis } {
    const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
    const subscriberConnection = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
    connections.push(redis);
    const subscriber = new RedisSubscriber(subscriberConnection);
    subscribers.push(subscriber);
    const events = new SessionEventsService(new SessionEventLog(redis, config), subscriber, config, metrics, quiet);
    services.push(events);
    return { events, subscriberConnection };
  }

  afterAll(async () => {
    services.forEach((s) => s.onModuleDestroy());
    await Promise.all(subscribers.map((s) => s.close()));
    connections.forEach((c) => c.disconnect());
    await deleteKeysWithPrefix(prefix);
  });

  it('sends its own appends to its clients without their notice, and the other instance\'s over pub/sub, each once and in order', async () => {
    const a = instance();
    const b = instance();
    const sessionId = 's1';
    const [onA, onB] = [new RecordingTarget('client-a'), new RecordingTarget('client-b')];
    await a.events.attach(onA, sessionId, 0);
    await b.events.attach(onB, sessionId, 0);
    // A hears no notices from here on: whatever its client gets of A's appends came straight.
    await a.subscriberConnection.unsubscribe();

    for (const text of ['one', 'two', 'three']) a.events.publish(sessionId, 'reply.token', { sessionId, turnId: 't', roleId: 'r', index: 0, text } as never);
    await a.events.logged(sessionId);
    expect(onA.received.map((r) => r.seq)).toEqual([1, 2, 3]);
    await until(() => onB.received.length === 3);
    expect(onB.received.map((r) => r.seq)).toEqual([1, 2, 3]);

    // B's append reaches A only once A sees a gap behind its next own event: then from the log.
    b.events.publish(sessionId, 'message.user', { sessionId, text: 'from b' } as never);
    await b.events.logged(sessionId);
    await until(() => onB.received.length === 4);
    expect(onA.received).toHaveLength(3);
    a.events.publish(sessionId, 'message.user', { sessionId, text: 'from a' } as never);
    await a.events.logged(sessionId);
    await until(() => onA.received.length === 5 && onB.received.length === 5);
    for (const target of [onA, onB]) {
      expect(target.received.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5]);
      expect(target.received.map((r) => r.text)).toEqual(['one', 'two', 'three', 'from b', 'from a']);
    }
  });

  it('gives a client that attaches while an append is in flight every event once', async () => {
    const { events } = instance();
    const sessionId = 's2';
    const late = new RecordingTarget('late');
    events.publish(sessionId, 'message.user', { sessionId, text: 'before' } as never);
    const attached = events.attach(late, sessionId, 0);
    events.publish(sessionId, 'message.user', { sessionId, text: 'after' } as never);
    await attached;
    await events.logged(sessionId);
    await until(() => late.received.length === 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(late.received.map((r) => r.seq)).toEqual([1, 2]);
  });
});
