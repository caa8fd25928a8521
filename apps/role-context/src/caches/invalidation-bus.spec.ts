import { InvalidationBus } from './invalidation-bus';

// Only the bookkeeping of applied invalidations is under test: no Redis is touched.
function bus(): InvalidationBus & { applyForTest(tags: string[]): void } {
  const b = new InvalidationBus({} as never, { REDIS_KEY_PREFIX: 't:' } as never, {} as never);
  return Object.assign(b, { applyForTest: (tags: string[]) => (b as unknown as { apply(t: string[]): void }).apply(tags) });
}

describe('InvalidationBus.invalidatedSince', () => {
  it('tells whether an invalidation since an epoch touched any of the given tags', () => {
    const b = bus();
    const seen: string[][] = [];
    b.onInvalidate((tags) => seen.push(tags));
    const start = b.epoch;
    b.applyForTest(['session:a']);
    expect(b.invalidatedSince(start, ['session:b', 'role:x'])).toBe(false);
    expect(b.invalidatedSince(start, ['session:a'])).toBe(true);
    const later = b.epoch;
    b.applyForTest(['role:x']);
    expect(b.invalidatedSince(later, ['session:a'])).toBe(false);
    expect(b.invalidatedSince(later, ['role:x'])).toBe(true);
    expect(seen).toEqual([['session:a'], ['role:x']]);
  });

  it('answers yes when too many invalidations passed to tell', () => {
    const b = bus();
    const start = b.epoch;
    for (let i = 0; i < 5000; i++) b.applyForTest([`session:${i}`]);
    expect(b.invalidatedSince(start, ['role:never'])).toBe(true);
  });
});
