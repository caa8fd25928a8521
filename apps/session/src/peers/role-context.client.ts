import { ROLE_CONTEXT_CONTRACT, roleContext } from '@troupe/contracts';
import { PeerChannels } from '@troupe/discovery';
import { GrpcCallOptions, GrpcCaller } from '@troupe/grpc';

/** Typed calls to the role-context service. */
export class RoleContextClient {
  constructor(readonly grpc: GrpcCaller) {}

  /** The role-context service at `address`, or its instances in the registry (DISCOVERY=redis). */
  static open(peers: PeerChannels, address: string, deadlineMs: number): RoleContextClient {
    return new RoleContextClient(peers.open({ contract: ROLE_CONTEXT_CONTRACT, service: 'role-context', staticAddress: address, deadlineMs }));
  }

  getRole(id: string, options?: GrpcCallOptions): Promise<roleContext.GetRoleResponse> {
    return this.grpc.unary('getRole', { id }, options);
  }

  listRoles(options?: GrpcCallOptions): Promise<roleContext.ListRolesResponse> {
    return this.grpc.unary('listRoles', {}, options);
  }

  appendHistory(request: roleContext.AppendHistoryRequest, options?: GrpcCallOptions): Promise<roleContext.AppendHistoryResponse> {
    return this.grpc.unary('appendHistory', request, options);
  }

  getHistory(request: roleContext.GetHistoryRequest, options?: GrpcCallOptions): Promise<roleContext.GetHistoryResponse> {
    return this.grpc.unary('getHistory', request, options);
  }

  assembleContext(request: roleContext.AssembleContextRequest, options?: GrpcCallOptions): Promise<roleContext.AssembleContextResponse> {
    return this.grpc.unary('assembleContext', request, options);
  }
}
