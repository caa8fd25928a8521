import type { roleContext } from '@troupe/contracts';

/** What this service needs to know about roles: which tools each may use. */
export abstract class RoleDirectory {
  /** The role's `tools` list, or null when no such role exists. */
  abstract grantsOf(roleId: string): Promise<string[] | null>;
}

/** Memory blocks of role-context, read and written by the memory tools. */
export abstract class MemoryBlockStore {
  abstract list(roleId: string, userId: string): Promise<roleContext.MemoryBlock[]>;
  abstract get(roleId: string, userId: string, name: string): Promise<roleContext.MemoryBlock | null>;
  abstract put(request: roleContext.PutMemoryBlockRequest): Promise<roleContext.MemoryBlock>;
}

/** A failure of a peer service the tool caller should see as such (not as a bug of the tool). */
export class PeerError extends Error {}
