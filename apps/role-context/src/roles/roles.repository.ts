import { Inject, Injectable } from '@nestjs/common';
import { REDIS, Redis } from '@troupe/redis';
import { createHash } from 'node:crypto';
import { RoleDefinitionDto } from './dto/role-definition.dto';
import { StoredRole, toStoredRole } from './role';

/**
 * Stores a role only when its content changed, in one atomic step, so several instances
 * seeding the same files at once still produce one version per change.
 * KEYS: role hash, role-ids set. ARGV: id, digest, definition JSON, version key prefix.
 */
const PUT_IF_CHANGED = `
local digest = redis.call('HGET', KEYS[1], 'digest')
if digest == ARGV[2] then
  return tonumber(redis.call('HGET', KEYS[1], 'version'))
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('HSET', KEYS[1], 'digest', ARGV[2], 'definition', ARGV[3])
redis.call('SET', ARGV[4] .. version, ARGV[3])
redis.call('SADD', KEYS[2], ARGV[1])
return version
`;

@Injectable()
export class RolesRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  /** Saves the definition as a new version if it differs from the current one; returns the current version. */
  async put(definition: RoleDefinitionDto): Promise<number> {
    const json = JSON.stringify(definition);
    const digest = createHash('sha256').update(json).digest('hex');
    // Keys inside ARGV are not prefixed by ioredis, so the version key carries the prefix itself.
    const prefix = (this.redis.options.keyPrefix ?? '') + `role:${definition.id}:v:`;
    const version = await this.redis.eval(PUT_IF_CHANGED, 2, `role:${definition.id}`, 'roles', definition.id, digest, json, prefix);
    return Number(version);
  }

  async get(id: string): Promise<StoredRole | undefined> {
    const [version, definition] = await this.redis.hmget(`role:${id}`, 'version', 'definition');
    if (!version || !definition) return undefined;
    return toStoredRole(JSON.parse(definition) as RoleDefinitionDto, Number(version));
  }

  async list(): Promise<StoredRole[]> {
    const ids = (await this.redis.smembers('roles')).sort();
    const roles = await Promise.all(ids.map((id) => this.get(id)));
    return roles.filter((r): r is StoredRole => r !== undefined);
  }
}
