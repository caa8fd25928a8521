import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { MetricsService } from '@troupe/metrics';
import { REDIS, Redis } from '@troupe/redis';
import { Counter, Gauge } from 'prom-client';
import { RoleContextConfig } from '../role-context.config';
import { InvalidationBus } from './invalidation-bus';
import { RedisSecondTier } from './redis-second-tier';
import { CacheClassStats, TieredCache } from './tiered-cache';

/**
 * Every cache class declared in config, built once; tag invalidations from the bus reach all
 * of them. With CACHES_ENABLED=false `get` hands out nothing, so callers take the cold path.
 */
@Injectable()
export class CacheRegistry implements OnModuleInit {
  private readonly classes = new Map<string, TieredCache>();

  constructor(
    private readonly config: RoleContextConfig,
    @Inject(REDIS) redis: Redis,
    private readonly bus: InvalidationBus,
    private readonly metrics: MetricsService,
  ) {
    for (const policy of config.cachePolicies()) {
      this.classes.set(policy.name, new TieredCache(policy, policy.redisTier ? new RedisSecondTier(redis, policy.name) : undefined));
    }
  }

  onModuleInit(): void {
    this.bus.onInvalidate((tags) => {
      for (const cache of this.classes.values()) for (const tag of tags) cache.invalidateTag(tag);
    });
    this.registerMetrics();
  }

  get enabled(): boolean {
    return this.config.CACHES_ENABLED;
  }

  names(): string[] {
    return [...this.classes.keys()];
  }

  has(name: string): boolean {
    return this.classes.has(name);
  }

  /** The class, or undefined when caching is off; an unknown class falls back to the window class. */
  forClass(name: string): TieredCache | undefined {
    if (!this.enabled) return undefined;
    return this.classes.get(name) ?? this.classes.get(this.config.WINDOW_CACHE_CLASS);
  }

  stats(): CacheClassStats[] {
    return [...this.classes.values()].map((c) => c.stats());
  }

  private registerMetrics(): void {
    const registers = [this.metrics.registry];
    const labelNames = ['class'] as const;
    const totals = new Map<string, { hits: number; misses: number; evictions: number }>();
    const counter = (name: string, help: string, field: 'hits' | 'misses' | 'evictions') =>
      new Counter({
        name,
        help,
        labelNames,
        registers,
        // Counters only go up: add what happened since the last scrape.
        collect: function (this: Counter<'class'>) {
          for (const s of stats()) {
            const seen = totals.get(s.name) ?? { hits: 0, misses: 0, evictions: 0 };
            if (s[field] > seen[field]) this.inc({ class: s.name }, s[field] - seen[field]);
            seen[field] = s[field];
            totals.set(s.name, seen);
          }
        },
      });
    const stats = () => this.stats();
    counter('troupe_cache_hits_total', 'Cache hits per cache class', 'hits');
    counter('troupe_cache_misses_total', 'Cache misses per cache class', 'misses');
    counter('troupe_cache_evictions_total', 'Entries evicted to stay within the byte bound, per cache class', 'evictions');
    new Gauge({
      name: 'troupe_cache_bytes',
      help: 'Bytes held in the in-process tier, per cache class',
      labelNames,
      registers,
      collect: function (this: Gauge<'class'>) {
        for (const s of stats()) this.set({ class: s.name }, s.bytes);
      },
    });
    new Gauge({
      name: 'troupe_cache_entries',
      help: 'Entries held in the in-process tier, per cache class',
      labelNames,
      registers,
      collect: function (this: Gauge<'class'>) {
        for (const s of stats()) this.set({ class: s.name }, s.entries);
      },
    });
  }
}
