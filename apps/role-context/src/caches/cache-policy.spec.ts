import { DEFAULT_CACHE_POLICIES, parseCachePolicies } from './cache-policy';

describe('parseCachePolicies', () => {
  it('accepts the defaults round-tripped through JSON', () => {
    expect(parseCachePolicies(JSON.stringify(DEFAULT_CACHE_POLICIES))).toEqual(DEFAULT_CACHE_POLICIES);
  });

  it('names the bad field', () => {
    const ok = { name: 'p', ttlMs: 10, expiry: 'fixed', maxBytes: 4096, eviction: 'lru' };
    expect(() => parseCachePolicies('{')).toThrow(/JSON/);
    expect(() => parseCachePolicies(JSON.stringify([{ ...ok, eviction: 'fifo' }]))).toThrow(/\[0\]\.eviction/);
    expect(() => parseCachePolicies(JSON.stringify([ok, { ...ok, maxBytes: 5 }]))).toThrow(/\[1\]\.name|\[1\]\.maxBytes/);
    expect(() => parseCachePolicies(JSON.stringify([{ ...ok, colour: 1 }]))).toThrow(/\[0\]\.colour: unknown/);
  });
});
