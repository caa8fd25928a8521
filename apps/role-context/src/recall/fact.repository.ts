import { Inject, Injectable } from '@nestjs/common';
import { REDIS, Redis } from '@troupe/redis';
import { RoleContextConfig } from '../role-context.config';

export interface StoredFact {
  id: string;
  text: string;
  /** Absent when the fact was stored while no embedder answered (filled in later). */
  embedding?: number[];
  model?: string;
}

/**
 * Facts of one owner (a role, or a role and a person) as a Redis hash of JSON, with a sorted
 * set by time so the oldest leave first once RECALL_MAX_FACTS is reached.
 */
@Injectable()
export class FactRepository {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: RoleContextConfig,
  ) {}

  async add(owner: string, fact: StoredFact): Promise<void> {
    await this.redis
      .multi()
      .hset(this.key(owner), fact.id, JSON.stringify(fact))
      .zadd(this.orderKey(owner), Date.now(), fact.id)
      .exec();
    const excess = (await this.redis.zcard(this.orderKey(owner))) - this.config.RECALL_MAX_FACTS;
    if (excess > 0) {
      const popped = await this.redis.zpopmin(this.orderKey(owner), excess);
      const ids = popped.filter((_, i) => i % 2 === 0);
      if (ids.length) await this.redis.hdel(this.key(owner), ...ids);
    }
  }

  async all(owners: string[]): Promise<StoredFact[]> {
    const hashes = await Promise.all(owners.map((o) => this.redis.hgetall(this.key(o))));
    return hashes.flatMap((h) => Object.values(h).map((json) => JSON.parse(json) as StoredFact));
  }

  /** Writes embeddings computed later for facts that were stored without one. */
  async update(owner: string, facts: StoredFact[]): Promise<void> {
    if (facts.length === 0) return;
    await this.redis.hset(this.key(owner), Object.fromEntries(facts.map((f) => [f.id, JSON.stringify(f)])));
  }

  private key(owner: string): string {
    return `recall:${owner}:facts`;
  }

  private orderKey(owner: string): string {
    return `recall:${owner}:order`;
  }
}
