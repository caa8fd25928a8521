import { DeliverySource, DeliveryTarget, EventDelivery } from './event-delivery';
import { LoggedEvent } from './session-event-log';

/** An in-memory event log with a pub/sub that can drop notices, to exercise gap repair. */
class FakeLog implements DeliverySource {
  readonly events: LoggedEvent[] = [];
  private readonly listeners = new Map<string, (e: LoggedEvent) => void>();
  dropNotices = false;

  append(type: string, payload: object = {}): LoggedEvent {
    const event = { seq: this.events.length + 1, type, payload: payload as Record<string, unknown> };
    this.events.push(event);
    if (!this.dropNotices) this.listeners.get('s')?.(event);
    return event;
  }
  async range(_: string, after: number, upTo?: number, count = 1000) {
    return this.events.filter((e) => e.seq > after && (upTo === undefined || e.seq <= upTo)).slice(0, count);
  }
  async subscribe(sessionId: string, onEvent: (e: LoggedEvent) => void) {
    this.listeners.set(sessionId, onEvent);
  }
  async unsubscribe(sessionId: string) {
    this.listeners.delete(sessionId);
  }
}

class FakeClient implements DeliveryTarget {
  readonly received: { event: string; payload: any }[] = [];
  pending = 0;
  dropped?: string;
  drains = true;
  waitForDrain() {
    if (this.drains) this.pending = 0;
    return Promise.resolve(this.drains);
  }
  constructor(readonly id: string) {}
  emit(event: string, payload: object) {
    this.received.push({ event, payload });
  }
  pendingPackets() {
    return this.pending;
  }
  dropAsSlow(reason: string) {
    this.dropped = reason;
  }
  seqs() {
    return this.received.filter((r) => r.event !== 'chat.error').map((r) => r.payload.seq);
  }
}

const flush = () => new Promise((r) => setImmediate(r));

describe('EventDelivery', () => {
  it('replays what a client missed, then goes on live, without gaps or duplicates', async () => {
    const log = new FakeLog();
    const delivery = new EventDelivery(log, 100, 1000, (e) => { throw e; });
    for (let i = 0; i < 5; i++) log.append('reply.token', { i });
    const client = new FakeClient('a');
    await delivery.attach(client, 's', 2);
    log.append('reply.token');
    log.append('reply.done');
    await flush();
    expect(client.seqs()).toEqual([3, 4, 5, 6, 7]);
    expect(client.received[0].payload).toEqual({ i: 2, seq: 3 });
  });

  it('fills a gap when pub/sub notices were lost', async () => {
    const log = new FakeLog();
    const delivery = new EventDelivery(log, 100, 1000, (e) => { throw e; });
    const client = new FakeClient('a');
    await delivery.attach(client, 's', 0);
    log.append('x');
    log.dropNotices = true;
    log.append('y');
    log.append('z');
    log.dropNotices = false;
    log.append('w');
    await flush();
    await flush();
    expect(client.seqs()).toEqual([1, 2, 3, 4]);
  });

  it('says so when the log no longer holds what a client asks for', async () => {
    const log = new FakeLog();
    const delivery = new EventDelivery(log, 100, 1000, (e) => { throw e; });
    for (let i = 0; i < 4; i++) log.append('x');
    log.events.splice(0, 2); // trimmed by retention
    const client = new FakeClient('a');
    await delivery.attach(client, 's', 0);
    expect(client.received[0]).toMatchObject({ event: 'chat.error', payload: { code: 'RESUME_GAP', field: 'lastSeq' } });
    expect(client.seqs()).toEqual([3, 4]);
  });

  it('holds a client over its bound back, then catches it up from the log once it drains', async () => {
    const log = new FakeLog();
    const delivery = new EventDelivery(log, 3, 1000, (e) => { throw e; });
    const client = new FakeClient('a');
    await delivery.attach(client, 's', 0);
    client.pending = 10;
    log.append('x');
    log.append('y');
    await flush();
    await flush();
    expect(client.dropped).toBeUndefined();
    expect(client.seqs()).toEqual([1, 2]);
    log.append('z');
    await flush();
    expect(client.seqs()).toEqual([1, 2, 3]);
  });

  it('drops a client that does not drain in time, and only that client', async () => {
    const log = new FakeLog();
    const delivery = new EventDelivery(log, 3, 1000, (e) => { throw e; });
    const slow = new FakeClient('slow');
    const fast = new FakeClient('fast');
    await delivery.attach(slow, 's', 0);
    await delivery.attach(fast, 's', 0);
    slow.pending = 10;
    slow.drains = false;
    log.append('x');
    log.append('y');
    await flush();
    await flush();
    expect(slow.dropped).toMatch(/3 events waited more than 1000 ms/);
    expect(slow.seqs()).toEqual([]);
    expect(fast.seqs()).toEqual([1, 2]);
    expect(delivery.isMember('slow', 's')).toBe(false);
  });

  it('unsubscribes when the last local client leaves', async () => {
    const log = new FakeLog();
    const unsubscribe = jest.spyOn(log, 'unsubscribe');
    const delivery = new EventDelivery(log, 100, 1000, (e) => { throw e; });
    await delivery.attach(new FakeClient('a'), 's', 0);
    await delivery.attach(new FakeClient('b'), 's', 0);
    delivery.detach('a');
    expect(unsubscribe).not.toHaveBeenCalled();
    delivery.detach('b');
    expect(unsubscribe).toHaveBeenCalledWith('s');
  });
});
