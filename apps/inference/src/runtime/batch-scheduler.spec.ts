import { BatchScheduler, Priority, SchedulerItem, SchedulerLimits } from './batch-scheduler';

interface Item extends SchedulerItem {
  id: string;
}

const item = (id: string, priority: Priority = 'interactive', reservedTokens = 10, extra: Partial<Item> = {}): Item => ({
  id,
  priority,
  reservedTokens,
  promptTokens: 4,
  ...extra,
});

const limits = (over: Partial<SchedulerLimits> = {}): SchedulerLimits => ({
  maxBatchSize: 4,
  kvCacheBytes: 1_000_000,
  kvBytesPerToken: 100,
  maxWaiting: 10,
  maxPrefillTokensPerStep: 1_000,
  ...over,
});

const ids = (items: readonly Item[]) => items.map((i) => i.id);

describe('BatchScheduler', () => {
  it('admits interactive requests before bulk ones, each in arrival order', () => {
    const s = new BatchScheduler<Item>(limits({ maxBatchSize: 3 }));
    for (const i of [item('b1', 'bulk'), item('i1'), item('b2', 'bulk'), item('i2')]) s.enqueue(i);
    expect(ids(s.admit())).toEqual(['i1', 'i2', 'b1']);
    expect(s.waitingCount).toBe(1);
  });

  it('never runs more than maxBatchSize and admits more when one leaves', () => {
    const s = new BatchScheduler<Item>(limits({ maxBatchSize: 2 }));
    const all = ['a', 'b', 'c'].map((id) => item(id));
    all.forEach((i) => s.enqueue(i));
    expect(ids(s.admit())).toEqual(['a', 'b']);
    expect(s.admit()).toEqual([]);
    expect(s.remove(all[0])).toBe(true);
    expect(ids(s.admit())).toEqual(['c']);
    expect(ids(s.running)).toEqual(['b', 'c']);
  });

  it('bounds the padded batch KV cache (size x longest reservation) by the budget', () => {
    // 100 bytes/token, budget 3000: two sequences of 10 fit (2000), a third of 15 makes 3 x 15 x 100 = 4500.
    const s = new BatchScheduler<Item>(limits({ kvCacheBytes: 3000 }));
    s.enqueue(item('a', 'interactive', 10));
    s.enqueue(item('b', 'interactive', 10));
    s.enqueue(item('c', 'interactive', 15));
    expect(ids(s.admit())).toEqual(['a', 'b']);
    expect(s.reservedKvBytes).toBe(2000);
    s.remove(s.running[0]);
    expect(ids(s.admit())).toEqual(['c']);
  });

  it('does not let a later small request overtake a head that does not fit', () => {
    const s = new BatchScheduler<Item>(limits({ kvCacheBytes: 2000 }));
    s.enqueue(item('a', 'interactive', 10));
    s.enqueue(item('big', 'interactive', 20));
    s.enqueue(item('small', 'bulk', 1));
    expect(ids(s.admit())).toEqual(['a']);
  });

  it('refuses a request that could never fit and one beyond the queue bound', () => {
    expect(new BatchScheduler<Item>(limits({ kvCacheBytes: 1000 })).enqueue(item('huge', 'interactive', 11))).toBe('too-large');
    const s = new BatchScheduler<Item>(limits({ maxWaiting: 1, maxBatchSize: 2 }));
    // Two free batch slots and one place to wait: a burst of three is taken, the fourth refused.
    expect(['a', 'b', 'c', 'd'].map((id) => s.enqueue(item(id)))).toEqual(['queued', 'queued', 'queued', 'queue-full']);
    s.admit();
    // The batch is full now: one may wait, no more.
    expect(s.running).toHaveLength(2);
    expect(s.enqueue(item('e'))).toBe('queue-full');
  });

  it('expires waiting requests past their deadline and reports overdue running ones', () => {
    const s = new BatchScheduler<Item>(limits({ maxBatchSize: 1 }));
    s.enqueue(item('run', 'interactive', 10, { deadlineAt: 50 }));
    s.enqueue(item('late', 'interactive', 10, { deadlineAt: 100 }));
    s.enqueue(item('none', 'bulk'));
    s.admit();
    expect(ids(s.expireWaiting(99))).toEqual([]);
    expect(ids(s.expireWaiting(100))).toEqual(['late']);
    expect(ids(s.overdueRunning(60))).toEqual(['run']);
    expect(s.waitingCount).toBe(1);
  });

  it('caps prompt tokens prefilled per step but always admits one', () => {
    const s = new BatchScheduler<Item>(limits({ maxPrefillTokensPerStep: 6 }));
    s.enqueue(item('a', 'interactive', 10, { promptTokens: 8 }));
    s.enqueue(item('b', 'interactive', 10, { promptTokens: 2 }));
    expect(ids(s.admit())).toEqual(['a']);
    expect(ids(s.admit())).toEqual(['b']);
  });
});
