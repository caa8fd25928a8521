import { Inject, Injectable } from '@nestjs/common';
import { REDIS, Redis } from '@troupe/redis';
import { createHash } from 'node:crypto';
import { RoleDefinitionDto } from './dto/role-definition.dto';
import { StoredRole, toStoredRole } from './role';

/**
 * Stores a role only when its content changed, in one atomic step, so several instances
 * seeding the same files at once still produce one version per change. Versions are never
 * reused: a deleted role keeps its counter, and putting it again continues from there.
 * KEYS: role hash, role-ids set. ARGV: id, digest, definition JSON, version key prefix.
 * Returns {version, changed}.
 */
const PUT_IF_CHANGED = `
local digest = redis.call('HGET', KEYS[1], 'digest')
local deleted = redis.call('HGET', KEYS[1], 'deleted')
if digest == ARGV[2] and deleted ~= '1' then
  return {tonumber(redis.call('HGET', KEYS[1], 'version')), 0}
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'digest', ARGV[2], 'definition', ARGV[3], 'deleted', '0')
redis.call('SET', ARGV[4] .. version, ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
return {version, 1}
`;

/** KEYS: role hash, role-ids set. ARGV: id. Returns 1 when a live role was deleted. */
const DELETE = `
if redis.call('EXISTS', KEYS[1]) == 0 or redis.call('HGET', KEYS[1], 'deleted') == '1' then return 0 end
redis.call('HSET', KEYS[1], 'deleted', '1')
redis.call('SREM', KEYS[2], ARGV[1])
return 1
`;

@Injectable()
export class RolesRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Saves the definition as a new version if it differs from the current one. */
  async put(definition: RoleDefinitionDto): Promise<{ version: number; changed: boolean }> {
    const json = JSON.stringify(definition);
    const digest = createHash('sha256').update(json).digest('hex');
    // Keys inside ARGV are not prefixed by ioredis, so the version key carries the prefix itself.
    const prefix = (this.redis.options.keyPrefix ?? '') + this.versionKey(definition.id, '');
    const [version, changed] = (await this.redis.eval(PUT_IF_CHANGED, 2, `role:${definition.id}`, 'roles', definition.id, digest, json, prefix)) as [
      number,
      number,
    ];
    return { version: Number(version), changed: changed === 1 };
  }

  /** The latest version, unless the role was deleted. */
  async get(id: string): Promise<StoredRole | undefined> {
    const [version, definition, deleted] = await this.redis.hmget(`role:${id}`, 'version', 'definition', 'deleted');
    if (!version || !definition || deleted === '1') return undefined;
    return toStoredRole(JSON.parse(definition) as RoleDefinitionDto, Number(version));
  }

  /** One version; kept after the role is deleted so pinned sessions still work. */
  async getVersion(id: string, version: number): Promise<StoredRole | undefined> {
    const definition = await this.redis.get(this.versionKey(id, version));
    return definition ? toStoredRole(JSON.parse(definition) as RoleDefinitionDto, version) : undefined;
  }

  async versions(id: string): Promise<StoredRole[]> {
    const latest = Number((await this.redis.hget(`role:${id}`, 'version')) ?? 0);
    if (latest === 0) return [];
    const keys = Array.from({ length: latest }, (_, i) => this.versionKey(id, i + 1));
    const definitions = await this.redis.mget(...keys);
    return definitions.flatMap((d, i) => (d ? [toStoredRole(JSON.parse(d) as RoleDefinitionDto, i + 1)] : []));
  }

  async delete(id: string): Promise<boolean> {
    return (await this.redis.eval(DELETE, 2, `role:${id}`, 'roles', id)) === 1;
  }

  async list(): Promise<StoredRole[]> {
    const ids = (await this.redis.smembers('roles')).sort();
    const roles = await Promise.all(ids.map((id) => this.get(id)));
    return roles.filter((r): r is StoredRole => r !== undefined);
  }

  private versionKey(id: string, version: number | ''): string {
    return `role:${id}:v:${version}`;
  }
}
