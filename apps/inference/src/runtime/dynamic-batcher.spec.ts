import { BatcherClock, BatcherRejection, DynamicBatcher } from './dynamic-batcher';
import type { DynamicBatchingConfig } from './embedding-manifest';

/** A clock the test moves by hand; timers fire when it passes them. */
class FakeClock implements BatcherClock {
  t = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private next = 1;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.next++;
    this.timers.set(id, { at: this.t + ms, fn });
    return id;
  };
  clearTimeout = (h: unknown) => void this.timers.delete(h as number);
  advance(ms: number): void {
    this.t += ms;
    for (const [id, timer] of [...this.timers]) {
      if (timer.at <= this.t) {
        this.timers.delete(id);
        timer.fn();
      }
    }
  }
}

const flush = () => new Promise((r) => setImmediate(r));

function setup(over: Partial<DynamicBatchingConfig> = {}) {
  const clock = new FakeClock();
  const batches: number[][] = [];
  let release: () => void = () => undefined;
  let hold = false;
  const batcher = new DynamicBatcher<number, number>(
    { maxBatchSize: 4, maxQueueDelayMs: 10, preferredBatchSizes: [], maxQueueSize: 100, ...over },
    async (items) => {
      batches.push(items);
      if (hold) await new Promise<void>((r) => (release = r));
      return items.map((x) => x * 10);
    },
    undefined,
    clock,
  );
  return { clock, batches, batcher, holdNext: () => (hold = true), release: () => { hold = false; release(); } };
}

describe('DynamicBatcher', () => {
  it('waits up to the max queue delay for companions, then sends what it has', async () => {
    const { clock, batches, batcher } = setup();
    const a = batcher.submit(1);
    clock.advance(5);
    const b = batcher.submit(2);
    await flush();
    expect(batches).toEqual([]);
    clock.advance(5);
    expect(await Promise.all([a, b])).toEqual([10, 20]);
    expect(batches).toEqual([[1, 2]]);
  });

  it('sends at once when a preferred size or the max batch size is reached', async () => {
    const { clock, batches, batcher } = setup({ preferredBatchSizes: [3, 2] });
    const [a, b, c] = [1, 2, 3].map((x) => batcher.submit(x));
    expect(await Promise.all([a, b])).toEqual([10, 20]); // no clock advance needed
    expect(batches).toEqual([[1, 2]]);
    clock.advance(10);
    expect(await c).toBe(30);

    const max = setup();
    const five = [1, 2, 3, 4, 5].map((x) => max.batcher.submit(x));
    await Promise.all(five.slice(0, 4));
    expect(max.batches).toEqual([[1, 2, 3, 4]]);
    max.clock.advance(10);
    await five[4];
    expect(max.batches).toEqual([[1, 2, 3, 4], [5]]);
  });

  it('batches what queued while a batch was running, bounded by the max size', async () => {
    const { clock, batches, batcher, holdNext, release } = setup();
    holdNext();
    const first = batcher.submit(0);
    clock.advance(10);
    await flush();
    const rest = [1, 2, 3, 4, 5, 6].map((x) => batcher.submit(x));
    release();
    await first;
    await flush();
    clock.advance(10);
    await Promise.all(rest);
    expect(batches).toEqual([[0], [1, 2, 3, 4], [5, 6]]);
  });

  it('fails only the requests past their deadline or beyond the queue bound', async () => {
    const { clock, batcher } = setup({ maxQueueSize: 2 });
    const late = batcher.submit(1, 5);
    const fine = batcher.submit(2);
    await expect(batcher.submit(3)).rejects.toMatchObject({ reason: 'queue-full' });
    clock.advance(10);
    await expect(late).rejects.toBeInstanceOf(BatcherRejection);
    await expect(late).rejects.toMatchObject({ reason: 'deadline' });
    expect(await fine).toBe(20);
  });
});
