import { Inject, Injectable } from '@nestjs/common';
import { roleContext } from '@troupe/contracts';
import { REDIS, Redis } from '@troupe/redis';

export type MemoryBlock = roleContext.MemoryBlock;
export type BlockScope = 'role' | 'user' | 'shared';

/** Where a block lives: its scope and the owner ids that scope needs. */
export interface BlockAddress {
  scope: BlockScope;
  roleId: string;
  userId: string;
  name: string;
}

export type PutOutcome =
  | { kind: 'ok'; block: MemoryBlock }
  | { kind: 'conflict'; version: number }
  | { kind: 'too-large'; chars: number; limit: number };

/**
 * Replace or append, version check and size limit in one atomic step, so no write path (two
 * tools appending at once, a replace racing an append) can leave a block over its limit.
 * Characters are Unicode code points (UTF-8 bytes that are not continuation bytes).
 * KEYS: block hash, owner's block-name set. ARGV: text, mode, expected version (0: any),
 * limit for a new block, now, name, scope.
 */
const PUT_BLOCK = `
local cur = redis.call('HMGET', KEYS[1], 'text', 'limit', 'version')
local version = tonumber(cur[3] or '0')
local expected = tonumber(ARGV[3])
if expected > 0 and expected ~= version then return {'conflict', version} end
local limit = tonumber(cur[2] or ARGV[4])
local text = ARGV[1]
if ARGV[2] == 'append' and cur[1] and cur[1] ~= '' then text = cur[1] .. '\\n' .. text end
local _, chars = string.gsub(text, '[^\\128-\\191]', '')
if chars > limit then return {'too-large', chars, limit} end
version = version + 1
redis.call('HSET', KEYS[1], 'text', text, 'limit', limit, 'version', version, 'updatedAt', ARGV[5])
redis.call('SADD', KEYS[2], ARGV[6])
return {'ok', version}
`;

@Injectable()
export class MemoryBlockRepository {
  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async get(address: BlockAddress): Promise<MemoryBlock | undefined> {
    const hash = await this.redis.hgetall(this.key(address));
    return toBlock(address, hash);
  }

  /** Several blocks in one round trip; missing ones are left out. */
  async getMany(addresses: BlockAddress[]): Promise<MemoryBlock[]> {
    if (addresses.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const a of addresses) pipeline.hgetall(this.key(a));
    const results = (await pipeline.exec()) ?? [];
    return addresses.flatMap((a, i) => {
      const block = toBlock(a, results[i][1] as Record<string, string>);
      return block ? [block] : [];
    });
  }

  /** Names of the role's own blocks, and of its blocks for one person. */
  async names(roleId: string, userId: string): Promise<{ role: string[]; user: string[] }> {
    const [role, user] = await Promise.all([
      this.redis.smembers(this.indexKey({ scope: 'role', roleId, userId: '', name: '' })),
      userId ? this.redis.smembers(this.indexKey({ scope: 'user', roleId, userId, name: '' })) : Promise.resolve([]),
    ]);
    return { role: role.sort(), user: user.sort() };
  }

  async put(address: BlockAddress, text: string, mode: 'replace' | 'append', expectedVersion: number, limitForNew: number): Promise<PutOutcome> {
    const now = String(Date.now());
    const result = (await this.redis.eval(
      PUT_BLOCK,
      2,
      this.key(address),
      this.indexKey(address),
      text,
      mode,
      String(expectedVersion),
      String(limitForNew),
      now,
      address.name,
      address.scope,
    )) as [string, number, number?];
    if (result[0] === 'conflict') return { kind: 'conflict', version: Number(result[1]) };
    if (result[0] === 'too-large') return { kind: 'too-large', chars: Number(result[1]), limit: Number(result[2]) };
    const block = await this.get(address);
    return { kind: 'ok', block: block! };
  }

  private key(a: BlockAddress): string {
    if (a.scope === 'shared') return `memory:shared:${a.name}`;
    if (a.scope === 'user') return `memory:user:${a.roleId}:${a.userId}:${a.name}`;
    return `memory:role:${a.roleId}:${a.name}`;
  }

  private indexKey(a: BlockAddress): string {
    if (a.scope === 'shared') return 'memory:shared-blocks';
    if (a.scope === 'user') return `memory:user:${a.roleId}:${a.userId}:blocks`;
    return `memory:role:${a.roleId}:blocks`;
  }
}

function toBlock(address: BlockAddress, hash: Record<string, string>): MemoryBlock | undefined {
  if (!hash || hash.version === undefined) return undefined;
  return {
    name: address.name,
    scope: address.scope,
    text: hash.text ?? '',
    limit: Number(hash.limit),
    version: Number(hash.version),
    updatedAt: hash.updatedAt ?? '',
  };
}
