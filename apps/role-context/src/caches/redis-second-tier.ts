import { Redis } from '@troupe/redis';
import { SecondTier } from './tiered-cache';

/** The Redis tier of one cache class: plain keys with a PX expiry under `cache:<class>:`. */
export class RedisSecondTier implements SecondTier {
  constructor(
    private readonly redis: Redis,
    private readonly className: string,
  ) {}

  get(key: string): Promise<string | null> {
    return this.redis.get(this.key(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(key), value, 'PX', ttlMs);
  }

  private key(key: string): string {
    return `cache:${this.className}:${key}`;
  }
}
