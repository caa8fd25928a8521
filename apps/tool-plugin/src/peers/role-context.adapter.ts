import { ROLE_CONTEXT_CONTRACT, roleContext } from '@troupe/contracts';
import { PeerChannels } from '@troupe/discovery';
import { GrpcCallError, GrpcCaller, GrpcStatus } from '@troupe/grpc';
import { MemoryBlockStore, PeerError, RoleDirectory } from './peer-ports';

/** The one adapter over role-context's gRPC API: roles' grants and memory blocks. */
export class RoleContextAdapter implements RoleDirectory, MemoryBlockStore {
  constructor(private readonly grpc: GrpcCaller) {}

  /** role-context at `address`, or its instances in the registry (DISCOVERY=redis). */
  static open(peers: PeerChannels, address: string, deadlineMs: number): RoleContextAdapter {
    return new RoleContextAdapter(peers.open({ contract: ROLE_CONTEXT_CONTRACT, service: 'role-context', staticAddress: address, deadlineMs }));
  }

  async grantsOf(roleId: string): Promise<string[] | null> {
    try {
      const { role } = await this.grpc.unary<roleContext.GetRoleRequest, roleContext.GetRoleResponse>('getRole', { id: roleId, version: 0 });
      return role?.tools ?? [];
    } catch (e) {
      if (e instanceof GrpcCallError && e.code === GrpcStatus.NOT_FOUND) return null;
      throw e;
    }
  }

  async list(roleId: string, userId: string): Promise<roleContext.MemoryBlock[]> {
    const res = await this.call<roleContext.ListMemoryBlocksResponse>('listMemoryBlocks', { roleId, userId });
    return res.blocks ?? [];
  }

  async get(roleId: string, userId: string, name: string): Promise<roleContext.MemoryBlock | null> {
    try {
      const res = await this.call<roleContext.GetMemoryBlockResponse>('getMemoryBlock', { roleId, userId, name });
      return res.block ?? null;
    } catch (e) {
      if (e instanceof GrpcCallError && e.code === GrpcStatus.NOT_FOUND) return null;
      throw e;
    }
  }

  async put(request: roleContext.PutMemoryBlockRequest): Promise<roleContext.MemoryBlock> {
    const res = await this.call<roleContext.PutMemoryBlockResponse>('putMemoryBlock', request);
    if (!res.block) throw new PeerError('role-context answered PutMemoryBlock without a block');
    return res.block;
  }

  close(): void {
    this.grpc.close();
  }

  /** Turns the peer's refusals (bad size, version conflict) into errors the model can read. */
  private async call<Res>(method: string, request: object): Promise<Res> {
    try {
      return await this.grpc.unary<object, Res>(method, request);
    } catch (e) {
      if (e instanceof GrpcCallError && e.code !== GrpcStatus.NOT_FOUND) {
        throw new PeerError(`role-context ${e.statusName}: ${e.details}`);
      }
      throw e;
    }
  }
}
