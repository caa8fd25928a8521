import { BatchSink, EventBatcher, UnloggedEvent } from './event-batcher';

/** A log whose appends complete only when the test says so. */
class HeldSink implements BatchSink {
  readonly appends: { sessionId: string; events: UnloggedEvent[]; done: (heard?: { listeners: number }) => void; fail: (e: Error) => void }[] = [];

  appendBatch(sessionId: string, events: UnloggedEvent[]): Promise<{ listeners: number } | void> {
    return new Promise((resolve, reject) => this.appends.push({ sessionId, events: structuredClone(events), done: resolve, fail: reject }));
  }
}

const tick = () => new Promise((r) => setImmediate(r));
const GRID_ALIGNED_NOW = 3_000_000;
const token = (index: number, text: string, turnId = 't1') => ({ sessionId: 's', turnId, roleId: 'r', index, count: 1, text });

describe('EventBatcher', () => {
  it('sends an event at once when nothing is in flight', async () => {
    const sink = new HeldSink();
    const batcher = new EventBatcher(sink, 100, (e) => { throw e; });
    batcher.publish('s', 'reply.start', { sessionId: 's' });
    expect(sink.appends).toHaveLength(1);
    expect(sink.appends[0].events).toEqual([{ type: 'reply.start', payload: { sessionId: 's' } }]);
  });

  it('says whether an event went out at once or waits behind an append in flight', async () => {
    const sink = new HeldSink();
    const batcher = new EventBatcher(sink, 100, (e) => { throw e; });
    expect(batcher.publish('s', 'message.user', { text: 'one' })).toBe(true);
    expect(batcher.publish('s', 'message.user', { text: 'two' })).toBe(false);
    expect(batcher.publish('s', 'reply.token', token(0, 'a'))).toBe(false);
    expect(batcher.publish('other', 'message.user', { text: 'three' })).toBe(true);
    expect(sink.appends.map((a) => a.events.map((e) => e.payload.text))).toEqual([['one'], ['three']]);
  });

  it('merges tokens that wait behind an append into one event with their count and text', async () => {
    const sink = new HeldSink();
    const batcher = new EventBatcher(sink, 100, (e) => { throw e; });
    batcher.publish('s', 'reply.token', token(0, 'a'));
    await tick();
    expect(sink.appends).toHaveLength(1);
    for (const [i, text] of ['b', 'c', 'd'].entries()) batcher.publish('s', 'reply.token', token(i + 1, text));
    batcher.publish('s', 'reply.done', { sessionId: 's', text: 'abcd' });
    expect(sink.appends).toHaveLength(1);
    sink.appends[0].done();
    await tick();
    expect(sink.appends).toHaveLength(2);
    expect(sink.appends[1].events).toEqual([
      { type: 'reply.token', payload: { ...token(1, 'bcd'), count: 3 } },
      { type: 'reply.done', payload: { sessionId: 's', text: 'abcd' } },
    ]);
    sink.appends[1].done();
    await tick();
    expect(batcher.busySessions()).toBe(0);
  });

  it('keeps tokens of different replies, or not in sequence, apart and in order', async () => {
    const sink = new HeldSink();
    const batcher = new EventBatcher(sink, 100, (e) => { throw e; });
    batcher.publish('s', 'reply.start', {});
    batcher.publish('s', 'reply.token', token(0, 'a', 't1'));
    batcher.publish('s', 'reply.token', token(0, 'x', 't2'));
    batcher.publish('s', 'reply.token', token(5, 'y', 't2'));
    sink.appends[0].done();
    await tick();
    expect(sink.appends[1].events.map((e) => [e.payload.turnId, e.payload.index, e.payload.count])).toEqual([
      ['t1', 0, 1],
      ['t2', 0, 1],
      ['t2', 5, 1],
    ]);
  });

  it('batches tokens published in the same tick into one append', async () => {
    const sink = new HeldSink();
    const batcher = new EventBatcher(sink, 100, (e) => { throw e; });
    batcher.publish('s', 'reply.token', token(0, 'a'));
    batcher.publish('s', 'reply.token', token(1, 'b'));
    expect(sink.appends).toHaveLength(0);
    await tick();
    expect(sink.appends).toHaveLength(1);
    expect(sink.appends[0].events).toEqual([{ type: 'reply.token', payload: { ...token(0, 'ab'), count: 2 } }]);
  });

  it('appends sessions independently and bounds a batch', async () => {
    const sink = new HeldSink();
    const batcher = new EventBatcher(sink, 2, (e) => { throw e; });
    batcher.publish('s', 'a', {});
    batcher.publish('other', 'a', {});
    expect(sink.appends.map((a) => a.sessionId)).toEqual(['s', 'other']);
    for (const type of ['b', 'c', 'd']) batcher.publish('s', type, {});
    sink.appends[0].done();
    await tick();
    expect(sink.appends[2].events.map((e) => e.type)).toEqual(['b', 'c']);
    sink.appends[2].done();
    await tick();
    expect(sink.appends[3].events.map((e) => e.type)).toEqual(['d']);
  });

  it('says when everything published has been appended', async () => {
    const sink = new HeldSink();
    const batcher = new EventBatcher(sink, 100, (e) => { throw e; });
    await batcher.drained();
    batcher.publish('s', 'a', {});
    batcher.publish('s', 'b', {});
    let drained = false;
    void batcher.drained().then(() => (drained = true));
    sink.appends[0].done();
    await tick();
    expect(drained).toBe(false);
    sink.appends[1].done();
    await tick();
    expect(drained).toBe(true);
  });

  it("says when one session's events so far are appended, not waiting for later ones", async () => {
    const sink = new HeldSink();
    const batcher = new EventBatcher(sink, 100, (e) => { throw e; });
    await batcher.logged('s');
    batcher.publish('s', 'reply.start', {});
    batcher.publish('s', 'message.user', {});
    let logged = false;
    void batcher.logged('s').then(() => (logged = true));
    batcher.publish('s', 'reply.start', {});
    batcher.publish('other', 'reply.start', {});
    sink.appends[0].done();
    await tick();
    expect(logged).toBe(false);
    // The second append holds message.user (and the event published after the call).
    expect(sink.appends[2].events.map((e) => e.type)).toEqual(['message.user', 'reply.start']);
    sink.appends[2].done();
    await tick();
    expect(logged).toBe(true);
  });

  it('reports a failed append and goes on with the next batch', async () => {
    const sink = new HeldSink();
    const failures: string[][] = [];
    const batcher = new EventBatcher(sink, 100, (_, __, events) => failures.push(events.map((e) => e.type)));
    batcher.publish('s', 'a', {});
    batcher.publish('s', 'b', {});
    sink.appends[0].fail(new Error('redis down'));
    await tick();
    expect(failures).toEqual([['a']]);
    expect(sink.appends[1].events.map((e) => e.type)).toEqual(['b']);
  });

  describe('with a token stream interval', () => {
    /** Tokens 1 and 2 published `gap` ms apart: still held at `heldAt`, sent as one event by `sentAt` (ms after token 1). */
    async function expectHeldThenMerged(batcher: EventBatcher, sink: HeldSink, { gap, heldAt, sentAt }: { gap: number; heldAt: number; sentAt: number }) {
      batcher.publish('s', 'reply.token', token(1, 'b'));
      jest.advanceTimersByTime(gap);
      batcher.publish('s', 'reply.token', token(2, 'c'));
      jest.advanceTimersByTime(heldAt - gap);
      await tick();
      expect(sink.appends).toHaveLength(1);
      jest.advanceTimersByTime(sentAt - heldAt);
      await tick();
      expect(sink.appends).toHaveLength(2);
      expect(sink.appends[1].events).toEqual([{ type: 'reply.token', payload: { ...token(1, 'bc'), count: 2 } }]);
    }

    // A clock on the tick grid of every interval used here (50, 150, 200 ms).
    beforeEach(() => jest.useFakeTimers({ now: GRID_ALIGNED_NOW, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());

    it("sends a reply's first token at once, then its tokens at most once per interval", async () => {
      const sink = new HeldSink();
      const batcher = new EventBatcher(sink, 100, (e) => { throw e; }, 50);
      batcher.publish('s', 'reply.token', token(0, 'a'));
      await tick();
      expect(sink.appends).toHaveLength(1);
      sink.appends[0].done();
      await tick();
      await expectHeldThenMerged(batcher, sink, { gap: 20, heldAt: 20, sentAt: 50 });
    });

    it('lets no other event wait: it takes the waiting tokens along at once', async () => {
      const sink = new HeldSink();
      const batcher = new EventBatcher(sink, 100, (e) => { throw e; }, 50);
      batcher.publish('s', 'reply.token', token(0, 'a'));
      await tick();
      sink.appends[0].done();
      await tick();
      batcher.publish('s', 'reply.token', token(1, 'b'));
      await tick();
      expect(sink.appends).toHaveLength(1);
      batcher.publish('s', 'reply.done', { sessionId: 's', text: 'ab' });
      expect(sink.appends[1].events.map((e) => [e.type, e.payload.text])).toEqual([
        ['reply.token', 'b'],
        ['reply.done', 'ab'],
      ]);
      sink.appends[1].done();
      await tick();
      // The next reply's first token does not wait for the interval either.
      batcher.publish('s', 'reply.token', token(0, 'x', 't2'));
      await tick();
      expect(sink.appends).toHaveLength(3);
      sink.appends[2].done();
      jest.advanceTimersByTime(100);
      await tick();
      expect(batcher.busySessions()).toBe(0);
    });

    it('reads the interval at each use: a stretched one holds the tokens longer, in one event', async () => {
      const sink = new HeldSink();
      let interval = 50;
      const batcher = new EventBatcher(sink, 100, (e) => { throw e; }, () => interval);
      batcher.publish('s', 'reply.token', token(0, 'a'));
      await tick();
      sink.appends[0].done();
      await tick();
      interval = 150; // the process got busy
      await expectHeldThenMerged(batcher, sink, { gap: 60, heldAt: 120, sentAt: 150 });
    });

    it('sends the waiting tokens of sessions on one grid: tokens due at different moments of one step go out in the same tick', async () => {
      const sink = new HeldSink();
      const batcher = new EventBatcher(sink, 100, (e) => { throw e; }, 50);
      for (const [at, sessionId] of [[10, 'a'], [20, 'b'], [40, 'c']] as const) {
        jest.advanceTimersByTime(at - (Date.now() - GRID_ALIGNED_NOW));
        batcher.publish(sessionId, 'reply.token', { ...token(0, 'x'), sessionId });
        await tick();
        sink.appends[sink.appends.length - 1].done();
        await tick();
        batcher.publish(sessionId, 'reply.token', { ...token(1, 'y'), sessionId });
      }
      expect(sink.appends).toHaveLength(3);
      // Due at 60, 70 and 90 ms: all at the grid's 100 ms tick, none before.
      jest.advanceTimersByTime(99 - 40);
      await tick();
      expect(sink.appends).toHaveLength(3);
      jest.advanceTimersByTime(1);
      expect(sink.appends.slice(3).map((a) => a.sessionId)).toEqual(['a', 'b', 'c']);
    });
  });

  describe('while nobody listens', () => {
    // A clock on the tick grid of every interval used here (50, 150, 200 ms).
    beforeEach(() => jest.useFakeTimers({ now: GRID_ALIGNED_NOW, doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] }));
    afterEach(() => jest.useRealTimers());
    const unheard = { listeners: 0 };
    /** A batcher whose first append (a reply's start) nobody heard. */
    async function unheardSession() {
      const sink = new HeldSink();
      const batcher = new EventBatcher(sink, 100, (e) => { throw e; }, 50, 200);
      batcher.publish('s', 'reply.start', {});
      sink.appends[0].done(unheard);
      await tick();
      return { sink, batcher };
    }

    it('holds tokens, a first one too, until the reply ends, and sends them with it in one append', async () => {
      const { sink, batcher } = await unheardSession();
      for (const [i, text] of ['a', 'b', 'c'].entries()) batcher.publish('s', 'reply.token', token(i, text));
      await tick();
      jest.advanceTimersByTime(150);
      await tick();
      expect(sink.appends).toHaveLength(1);
      batcher.publish('s', 'reply.done', { sessionId: 's', text: 'abc' });
      expect(sink.appends).toHaveLength(2);
      expect(sink.appends[1].events.map((e) => [e.type, e.payload.text])).toEqual([
        ['reply.token', 'abc'],
        ['reply.done', 'abc'],
      ]);
    });

    it('sends them after the hold at the latest, and as before once an append is heard again', async () => {
      const { sink, batcher } = await unheardSession();
      batcher.publish('s', 'reply.token', token(0, 'a'));
      await tick();
      jest.advanceTimersByTime(199);
      await tick();
      expect(sink.appends).toHaveLength(1);
      jest.advanceTimersByTime(1);
      await tick();
      expect(sink.appends.map((a) => a.events.length)).toEqual([1, 1]);
      // Someone joined: the next reply's first token goes at once again.
      sink.appends[1].done({ listeners: 1 });
      await tick();
      batcher.publish('s', 'reply.token', token(0, 'x', 't2'));
      await tick();
      expect(sink.appends).toHaveLength(3);
    });

    it('sends waiting tokens at once to a caller that waits until they are logged', async () => {
      const { sink, batcher } = await unheardSession();
      batcher.publish('s', 'reply.token', token(0, 'a'));
      await tick();
      const logged = batcher.logged('s');
      expect(sink.appends).toHaveLength(2);
      sink.appends[1].done(unheard);
      await logged;
    });
  });
});
