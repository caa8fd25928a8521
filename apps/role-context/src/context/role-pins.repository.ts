import { Inject, Injectable } from '@nestjs/common';
import { REDIS, Redis } from '@troupe/redis';
import { refreshExpiry, sessionKeys } from '../history/session-keys';
import { RoleContextConfig } from '../role-context.config';

/** Which role version a session is pinned to, per role (a hash per session). */
@Injectable()
export class RolePinsRepository {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: RoleContextConfig,
  ) {}

  async get(sessionId: string, roleId: string): Promise<number | undefined> {
    const v = await this.redis.hget(this.key(sessionId), roleId);
    return v ? Number(v) : undefined;
  }

  /**
   * Pins unless already pinned (two instances racing agree on the first); returns the pinned
   * version. One round trip whether or not a pin exists, so context assembly calls it instead
   * of reading the pin first. Only a new pins hash gets an expiry here (PEXPIRE NX): this runs
   * on reads, and pins otherwise live as long as the history, refreshed by its writes.
   */
  async pinIfAbsent(sessionId: string, roleId: string, version: number): Promise<number> {
    const key = this.key(sessionId);
    const write = this.redis.multi().hsetnx(key, roleId, String(version)).hget(key, roleId);
    if (this.config.HISTORY_TTL_SECONDS > 0) write.pexpire(key, this.config.HISTORY_TTL_SECONDS * 1000, 'NX');
    const [[, set], [, current]] = (await write.exec()) as [[null, number], [null, string]];
    return set === 1 ? version : Number(current);
  }

  /** Re-pins; returns the version pinned before (undefined when none). */
  async repin(sessionId: string, roleId: string, version: number): Promise<number | undefined> {
    const [[, before]] = (await this.expiring(
      sessionId,
      this.redis.multi().hget(this.key(sessionId), roleId).hset(this.key(sessionId), roleId, String(version)),
    ).exec()) as [[null, string | null], unknown];
    return before ? Number(before) : undefined;
  }

  /** Pins live as long as the session's history (HISTORY_TTL_SECONDS after the latest write). */
  private expiring(sessionId: string, write: ReturnType<Redis['multi']>): ReturnType<Redis['multi']> {
    return refreshExpiry(write, this.config.HISTORY_TTL_SECONDS, [this.key(sessionId)]);
  }

  private key(sessionId: string): string {
    return sessionKeys.rolePins(sessionId);
  }
}
