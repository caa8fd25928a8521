import { Inject, Injectable } from '@nestjs/common';
import { REDIS, Redis } from '@troupe/redis';
import { sessionKeys } from '../history/session-keys';
import { RoleContextConfig } from '../role-context.config';

/**
 * Pins a version unless one is pinned; a pins hash with no expiry gets one. KEYS: pins. ARGV:
 * role, version, ttl ms (0: none). Returns the pinned version.
 */
const PIN_IF_ABSENT = `
local set = redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3], 'NX') end
if set == 1 then return ARGV[2] end
return redis.call('HGET', KEYS[1], ARGV[1])
`;

/** Re-pins and refreshes the expiry. KEYS: pins. ARGV: role, version, ttl ms (0: none). Returns the version before (nil: none). */
const REPIN = `
local before = redis.call('HGET', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if tonumber(ARGV[3]) > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3]) end
return before
`;

type PinScripts = {
  troupePinIfAbsent(key: string, roleId: string, version: number, ttlMs: number): Promise<string>;
  troupeRepin(key: string, roleId: string, version: number, ttlMs: number): Promise<string | null>;
};

/** Which role version a session is pinned to, per role (a hash per session). */
@Injectable()
export class RolePinsRepository {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: RoleContextConfig,
  ) {
    this.redis.defineCommand('troupePinIfAbsent', { numberOfKeys: 1, lua: PIN_IF_ABSENT });
    this.redis.defineCommand('troupeRepin', { numberOfKeys: 1, lua: REPIN });
  }

  private get scripts(): PinScripts {
    return this.redis as unknown as PinScripts;
  }

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
    return Number(await this.scripts.troupePinIfAbsent(this.key(sessionId), roleId, version, this.config.HISTORY_TTL_SECONDS * 1000));
  }

  /** Re-pins; returns the version pinned before (undefined when none). */
  async repin(sessionId: string, roleId: string, version: number): Promise<number | undefined> {
    // Pins live as long as the session's history (HISTORY_TTL_SECONDS after the latest write).
    const before = await this.scripts.troupeRepin(this.key(sessionId), roleId, version, this.config.HISTORY_TTL_SECONDS * 1000);
    return before ? Number(before) : undefined;
  }

  private key(sessionId: string): string {
    return sessionKeys.rolePins(sessionId);
  }
}
