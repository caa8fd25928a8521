/** One cache class as declared in config: how long entries live, how much memory they may use, what leaves first. */
export interface CachePolicy {
  name: string;
  /** Entry lifetime in milliseconds. */
  ttlMs: number;
  /** "sliding": every hit extends the lifetime; "fixed": entries expire ttlMs after they were written. */
  expiry: 'sliding' | 'fixed';
  /** Bound on the in-process tier, in bytes of the stored values (not entries). */
  maxBytes: number;
  eviction: 'lru' | 'lfu';
  /** A second tier in Redis: written through on every put, read on an in-process miss. */
  redisTier: boolean;
}

/** The classes a fresh deployment starts with (override with CACHE_CLASSES). */
export const DEFAULT_CACHE_POLICIES: CachePolicy[] = [
  { name: 'persona', ttlMs: 6 * 3600_000, expiry: 'fixed', maxBytes: 16 * 1024 * 1024, eviction: 'lfu', redisTier: true },
  { name: 'window', ttlMs: 10 * 60_000, expiry: 'sliding', maxBytes: 64 * 1024 * 1024, eviction: 'lru', redisTier: false },
  { name: 'audit', ttlMs: 30_000, expiry: 'fixed', maxBytes: 2 * 1024 * 1024, eviction: 'lru', redisTier: true },
];

const NAME = /^[a-z][a-z0-9-]{0,31}$/;

/** Validates CACHE_CLASSES (a JSON array of policies); the error names the bad field. */
export function parseCachePolicies(json: string): CachePolicy[] {
  let input: unknown;
  try {
    input = JSON.parse(json);
  } catch (e) {
    throw new Error(`must be JSON: ${(e as Error).message}`);
  }
  if (!Array.isArray(input) || input.length === 0) throw new Error('must be a non-empty JSON array of cache classes');
  const seen = new Set<string>();
  return input.map((raw, i) => {
    const at = `[${i}]`;
    if (typeof raw !== 'object' || raw === null) throw new Error(`${at}: must be an object`);
    const o = raw as Record<string, unknown>;
    const known = ['name', 'ttlMs', 'expiry', 'maxBytes', 'eviction', 'redisTier'];
    for (const k of Object.keys(o)) if (!known.includes(k)) throw new Error(`${at}.${k}: unknown field`);
    if (typeof o.name !== 'string' || !NAME.test(o.name)) throw new Error(`${at}.name: must be lowercase letters, digits, "-"`);
    if (seen.has(o.name)) throw new Error(`${at}.name: "${o.name}" declared twice`);
    seen.add(o.name);
    const int = (k: string, min: number, max: number) => {
      const v = o[k];
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new Error(`${at}.${k}: must be an integer in ${min}..${max}`);
      return v;
    };
    const ttlMs = int('ttlMs', 1, 30 * 24 * 3600_000);
    const maxBytes = int('maxBytes', 1024, 8 * 1024 * 1024 * 1024);
    if (o.expiry !== 'sliding' && o.expiry !== 'fixed') throw new Error(`${at}.expiry: must be "sliding" or "fixed"`);
    if (o.eviction !== 'lru' && o.eviction !== 'lfu') throw new Error(`${at}.eviction: must be "lru" or "lfu"`);
    if (o.redisTier !== undefined && typeof o.redisTier !== 'boolean') throw new Error(`${at}.redisTier: must be a boolean`);
    return { name: o.name, ttlMs, maxBytes, expiry: o.expiry, eviction: o.eviction, redisTier: o.redisTier === true };
  });
}
