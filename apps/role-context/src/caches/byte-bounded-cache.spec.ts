import { ByteBoundedCache } from './byte-bounded-cache';
import { CachePolicy } from './cache-policy';

const policy = (over: Partial<CachePolicy> = {}): CachePolicy => ({
  name: 't',
  ttlMs: 1000,
  expiry: 'fixed',
  maxBytes: 100,
  eviction: 'lru',
  redisTier: false,
  ...over,
});

describe('ByteBoundedCache', () => {
  it('bounds bytes, not entries, evicting the least recently used', () => {
    const cache = new ByteBoundedCache<string>(policy());
    cache.set('a', 'A', 40);
    cache.set('b', 'B', 40);
    expect(cache.get('a')).toBe('A'); // a is now more recent than b
    cache.set('c', 'C', 40);
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBe('A');
    expect(cache.stats()).toMatchObject({ bytes: 80, entries: 2, evictions: 1 });
    expect(cache.set('huge', 'H', 101)).toBe(false);
  });

  it('evicts the least frequently used under LFU, oldest first among equals', () => {
    const cache = new ByteBoundedCache<string>(policy({ eviction: 'lfu' }));
    cache.set('a', 'A', 30);
    cache.set('b', 'B', 30);
    cache.set('c', 'C', 30);
    cache.get('a');
    cache.get('a');
    cache.get('c');
    cache.set('d', 'D', 30); // b was used least
    expect(cache.get('b')).toBeUndefined();
    cache.set('e', 'E', 30); // d (1 use) before c (2) and a (3)
    expect(cache.get('d')).toBeUndefined();
    expect([cache.get('a'), cache.get('c'), cache.get('e')]).toEqual(['A', 'C', 'E']);
    expect(cache.stats().evictions).toBe(2);
  });

  it('expires at a fixed time, or slides on every hit', () => {
    let now = 0;
    const fixed = new ByteBoundedCache<string>(policy({ expiry: 'fixed' }), () => now);
    const sliding = new ByteBoundedCache<string>(policy({ expiry: 'sliding' }), () => now);
    fixed.set('k', 'v', 1);
    sliding.set('k', 'v', 1);
    now = 800;
    expect(fixed.get('k')).toBe('v');
    expect(sliding.get('k')).toBe('v');
    now = 1500;
    expect(fixed.get('k')).toBeUndefined();
    expect(sliding.get('k')).toBe('v');
    now = 2600;
    expect(sliding.get('k')).toBeUndefined();
    expect(fixed.stats()).toMatchObject({ hits: 1, misses: 1, bytes: 0 });
  });

  it('drops every entry of a tag and keeps the rest', () => {
    const cache = new ByteBoundedCache<string>(policy());
    cache.set('w1', '1', 10, ['session:s1', 'role:guide']);
    cache.set('w2', '2', 10, ['session:s2', 'role:guide']);
    cache.set('w3', '3', 10, ['session:s2', 'role:critic']);
    expect(cache.invalidateTag('session:s2')).toBe(2);
    expect(cache.get('w1')).toBe('1');
    expect(cache.invalidateTag('role:guide')).toBe(1);
    expect(cache.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });
});
