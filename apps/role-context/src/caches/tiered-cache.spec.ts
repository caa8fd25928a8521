import { CachePolicy } from './cache-policy';
import { SecondTier, TieredCache } from './tiered-cache';

class MapTier implements SecondTier {
  readonly store = new Map<string, { value: string; ttlMs: number }>();
  async get(key: string) {
    return this.store.get(key)?.value ?? null;
  }
  async set(key: string, value: string, ttlMs: number) {
    this.store.set(key, { value, ttlMs });
  }
}

const policy: CachePolicy = { name: 'persona', ttlMs: 5000, expiry: 'fixed', maxBytes: 4096, eviction: 'lfu', redisTier: true };

describe('TieredCache', () => {
  it('writes through to the second tier and refills the first tier from it', async () => {
    const tier = new MapTier();
    const a = new TieredCache(policy, tier);
    const b = new TieredCache(policy, tier); // another instance sharing the Redis tier
    await a.set('persona:guide:1', { content: 'You guide.' });
    expect(tier.store.get('persona:guide:1')).toEqual({ value: '{"content":"You guide."}', ttlMs: 5000 });
    expect(await b.get('persona:guide:1')).toEqual({ content: 'You guide.' });
    expect(b.getLocal('persona:guide:1')).toEqual({ content: 'You guide.' });
    expect(b.stats()).toMatchObject({ secondTierHits: 1, entries: 1, bytes: 24 });
    expect(await b.get('missing')).toBeUndefined();
  });

  it('keeps working in-process when the second tier fails', async () => {
    const broken: SecondTier = { get: () => Promise.reject(new Error('down')), set: () => Promise.reject(new Error('down')) };
    const cache = new TieredCache(policy, broken);
    await cache.set('k', 'v');
    expect(await cache.get('k')).toBe('v');
    expect(await cache.get('other')).toBeUndefined();
  });
});
