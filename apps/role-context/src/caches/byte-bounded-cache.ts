import { CachePolicy } from './cache-policy';

export interface CacheCounters {
  hits: number;
  misses: number;
  evictions: number;
  bytes: number;
  entries: number;
}

interface Entry<V> {
  key: string;
  value: V;
  bytes: number;
  expiresAt: number;
  freq: number;
  tags: readonly string[];
}

/**
 * The in-process tier of a cache class: bounded by the bytes of its values, evicting by LRU
 * (Map insertion order, refreshed on hit) or LFU (frequency buckets, O(1) per operation; ties
 * leave oldest first), expiring by a fixed or sliding TTL. Entries carry tags so one event
 * ("session s got a new turn") drops every entry that depended on it.
 */
export class ByteBoundedCache<V> {
  private readonly entries = new Map<string, Entry<V>>();
  private readonly byTag = new Map<string, Set<string>>();
  /** LFU only: frequency -> keys in insertion order. */
  private readonly buckets = new Map<number, Set<string>>();
  private minFreq = 0;
  private readonly counters: CacheCounters = { hits: 0, misses: 0, evictions: 0, bytes: 0, entries: 0 };

  constructor(
    readonly policy: CachePolicy,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) {
      this.counters.misses++;
      return undefined;
    }
    const now = this.now();
    if (entry.expiresAt <= now) {
      this.remove(entry);
      this.counters.misses++;
      return undefined;
    }
    this.counters.hits++;
    if (this.policy.expiry === 'sliding') entry.expiresAt = now + this.policy.ttlMs;
    this.touch(entry);
    return entry.value;
  }

  /** Stores a value of the given size; a value larger than the whole bound is not stored. */
  set(key: string, value: V, bytes: number, tags: readonly string[] = []): boolean {
    const old = this.entries.get(key);
    if (old) this.remove(old);
    if (bytes > this.policy.maxBytes) return false;
    while (this.counters.bytes + bytes > this.policy.maxBytes) this.evictOne();
    const entry: Entry<V> = { key, value, bytes, expiresAt: this.now() + this.policy.ttlMs, freq: 1, tags };
    this.entries.set(key, entry);
    this.counters.bytes += bytes;
    this.counters.entries++;
    for (const tag of tags) {
      let keys = this.byTag.get(tag);
      if (!keys) this.byTag.set(tag, (keys = new Set()));
      keys.add(key);
    }
    if (this.policy.eviction === 'lfu') {
      this.bucket(1).add(key);
      this.minFreq = 1;
    }
    return true;
  }

  delete(key: string): boolean {
    const entry = this.entries.get(key);
    if (entry) this.remove(entry);
    return entry !== undefined;
  }

  /** Drops every entry carrying the tag; returns how many. */
  invalidateTag(tag: string): number {
    const keys = this.byTag.get(tag);
    if (!keys) return 0;
    let n = 0;
    for (const key of [...keys]) if (this.delete(key)) n++;
    this.byTag.delete(tag);
    return n;
  }

  clear(): void {
    for (const entry of [...this.entries.values()]) this.remove(entry);
  }

  stats(): CacheCounters {
    return { ...this.counters };
  }

  private touch(entry: Entry<V>): void {
    if (this.policy.eviction === 'lru') {
      // Re-inserting moves the key to the end: the Map's first key is the least recently used.
      this.entries.delete(entry.key);
      this.entries.set(entry.key, entry);
      return;
    }
    const from = this.buckets.get(entry.freq)!;
    from.delete(entry.key);
    if (from.size === 0) {
      this.buckets.delete(entry.freq);
      if (this.minFreq === entry.freq) this.minFreq = entry.freq + 1;
    }
    entry.freq++;
    this.bucket(entry.freq).add(entry.key);
  }

  private evictOne(): void {
    let victim: string | undefined;
    if (this.policy.eviction === 'lru') {
      victim = this.entries.keys().next().value;
    } else {
      while (!this.buckets.has(this.minFreq) && this.minFreq <= this.maxFreq()) this.minFreq++;
      victim = this.buckets.get(this.minFreq)?.values().next().value;
    }
    if (victim === undefined) throw new Error('cache accounting broken: over its bound with nothing to evict');
    this.remove(this.entries.get(victim)!);
    this.counters.evictions++;
  }

  private maxFreq(): number {
    let max = 0;
    for (const f of this.buckets.keys()) if (f > max) max = f;
    return max;
  }

  private remove(entry: Entry<V>): void {
    this.entries.delete(entry.key);
    this.counters.bytes -= entry.bytes;
    this.counters.entries--;
    for (const tag of entry.tags) {
      const keys = this.byTag.get(tag);
      keys?.delete(entry.key);
      if (keys?.size === 0) this.byTag.delete(tag);
    }
    if (this.policy.eviction === 'lfu') {
      const bucket = this.buckets.get(entry.freq);
      bucket?.delete(entry.key);
      if (bucket?.size === 0) this.buckets.delete(entry.freq);
    }
  }

  private bucket(freq: number): Set<string> {
    let b = this.buckets.get(freq);
    if (!b) this.buckets.set(freq, (b = new Set()));
    return b;
  }
}
