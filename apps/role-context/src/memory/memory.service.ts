import { Injectable } from '@nestjs/common';
import { InvalidationBus } from '../caches/invalidation-bus';
import { RoleContextConfig } from '../role-context.config';
import { StoredRole } from '../roles/role';
import { BlockAddress, BlockScope, MemoryBlock, MemoryBlockRepository, PutOutcome } from './memory-block.repository';

/** A request the caller must fix (bad scope, missing person, a shared block the role does not list). */
export class MemoryRequestError extends Error {
  constructor(
    readonly field: string,
    problem: string,
    readonly kind: 'invalid' | 'denied' = 'invalid',
  ) {
    super(`${field}: ${problem}`);
  }
}

/** Tags of the cached windows that show a role's memory blocks. */
export const memoryTags = (role: StoredRole): string[] => [
  `memory:role:${role.id}`,
  ...(role.memory?.sharedBlocks ?? []).map((name) => `memory:shared:${name}`),
];

@Injectable()
export class MemoryService {
  constructor(
    private readonly blocks: MemoryBlockRepository,
    private readonly bus: InvalidationBus,
    private readonly config: RoleContextConfig,
  ) {}

  /** Every block the role sees for this person: its own, the person's, and the shared ones it lists. */
  async visible(role: StoredRole, userId: string): Promise<MemoryBlock[]> {
    const names = await this.blocks.names(role.id, userId);
    const addresses: BlockAddress[] = [
      ...names.role.map((name) => ({ scope: 'role' as const, roleId: role.id, userId: '', name })),
      ...names.user.map((name) => ({ scope: 'user' as const, roleId: role.id, userId, name })),
      ...(role.memory?.sharedBlocks ?? []).map((name) => ({ scope: 'shared' as const, roleId: role.id, userId: '', name })),
    ];
    return this.blocks.getMany(addresses);
  }

  async get(role: StoredRole, userId: string, name: string, scope: string): Promise<MemoryBlock | undefined> {
    return this.blocks.get(this.address(role, userId, name, scope));
  }

  async put(
    role: StoredRole,
    request: { userId: string; name: string; scope: string; text: string; mode: string; expectedVersion: number },
  ): Promise<PutOutcome> {
    const address = this.address(role, request.userId, request.name, request.scope);
    const limit = Math.min(role.memory?.blockLimitChars ?? 2000, this.config.MEMORY_BLOCK_MAX_CHARS);
    const mode = request.mode === 'append' ? 'append' : 'replace';
    const outcome = await this.blocks.put(address, request.text, mode, request.expectedVersion, limit);
    if (outcome.kind === 'ok') {
      // Every role sharing the block sees the edit on its next turn, on every instance.
      await this.bus.publish([address.scope === 'shared' ? `memory:shared:${address.name}` : `memory:role:${role.id}`]);
    }
    return outcome;
  }

  private address(role: StoredRole, userId: string, name: string, scope: string): BlockAddress {
    const shared = role.memory?.sharedBlocks ?? [];
    const resolved: BlockScope = (scope || (userId ? 'user' : shared.includes(name) ? 'shared' : 'role')) as BlockScope;
    if (!['role', 'user', 'shared'].includes(resolved)) throw new MemoryRequestError('scope', 'must be "role", "user" or "shared"');
    if (resolved === 'user' && !userId) throw new MemoryRequestError('userId', 'is required for a "user" block');
    if (resolved === 'shared' && !shared.includes(name)) {
      throw new MemoryRequestError('name', `role "${role.id}" does not list shared block "${name}" in memory.sharedBlocks`, 'denied');
    }
    return { scope: resolved, roleId: role.id, userId: resolved === 'user' ? userId : '', name };
  }
}
