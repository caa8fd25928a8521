import { Inject, Injectable } from '@nestjs/common';
import { REDIS, Redis, incrWithExpiry } from '@troupe/redis';
import { SessionConfig } from '../session.config';

/** Messages per user per minute, counted in Redis so the limit holds across instances. */
@Injectable()
export class RateLimiter {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: SessionConfig,
  ) {}

  /** Counts one message; returns the ms to wait when over the limit, else 0. */
  async hit(userId: string): Promise<number> {
    const now = Date.now();
    const minute = Math.floor(now / 60_000);
    const key = `rate:${userId}:${minute}`;
    const count = await incrWithExpiry(this.redis, key, 120);
    return count > this.config.RATE_LIMIT_MESSAGES_PER_MINUTE ? (minute + 1) * 60_000 - now : 0;
  }
}
