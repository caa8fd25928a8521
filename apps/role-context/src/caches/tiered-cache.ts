import { ByteBoundedCache, CacheCounters } from './byte-bounded-cache';
import { CachePolicy } from './cache-policy';

/** The Redis tier as the cache sees it (the adapter lives in redis-second-tier.ts). */
export interface SecondTier {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
}

export interface CacheClassStats extends CacheCounters {
  name: string;
  maxBytes: number;
  secondTierHits: number;
}

/**
 * A cache class: the byte-bounded in-process tier, plus (when the policy says so) a Redis tier
 * written through on every put and read on an in-process miss. Only values keyed by immutable
 * inputs (e.g. a role *version*) belong in a class with a Redis tier: its entries are never
 * invalidated, they age out by TTL.
 */
export class TieredCache {
  private readonly local: ByteBoundedCache<unknown>;
  private secondTierHits = 0;

  constructor(
    readonly policy: CachePolicy,
    private readonly secondTier?: SecondTier,
    now?: () => number,
  ) {
    this.local = new ByteBoundedCache(policy, now);
  }

  getLocal<V>(key: string): V | undefined {
    return this.local.get(key) as V | undefined;
  }

  /** In-process first, then Redis (a Redis hit is copied into the in-process tier). */
  async get<V>(key: string): Promise<V | undefined> {
    const hit = this.local.get(key);
    if (hit !== undefined || !this.secondTier) return hit as V | undefined;
    const raw = await this.secondTier.get(key).catch(() => null);
    if (raw === null) return undefined;
    this.secondTierHits++;
    const value = JSON.parse(raw) as V;
    this.local.set(key, value, Buffer.byteLength(raw));
    return value;
  }

  /** Stores in-process; with a Redis tier also there (write-through), sized by its JSON. */
  async set<V>(key: string, value: V, tags: readonly string[] = [], bytes?: number): Promise<void> {
    const json = bytes === undefined || this.secondTier ? JSON.stringify(value) : '';
    this.local.set(key, value, bytes ?? Buffer.byteLength(json), tags);
    if (this.secondTier) await this.secondTier.set(key, json, this.policy.ttlMs).catch(() => undefined);
  }

  setLocal<V>(key: string, value: V, bytes: number, tags: readonly string[] = []): void {
    this.local.set(key, value, bytes, tags);
  }

  invalidateTag(tag: string): number {
    return this.local.invalidateTag(tag);
  }

  clear(): void {
    this.local.clear();
  }

  stats(): CacheClassStats {
    return { name: this.policy.name, maxBytes: this.policy.maxBytes, secondTierHits: this.secondTierHits, ...this.local.stats() };
  }
}
