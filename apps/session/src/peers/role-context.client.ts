import { ROLE_CONTEXT_CONTRACT, roleContext } from '@troupe/contracts';
import { GrpcCallOptions, GrpcClient } from '@troupe/grpc';

/** Typed calls to the role-context service. */
export class RoleContextClient {
  constructor(readonly grpc: GrpcClient) {}

  static connect(address: string, deadlineMs: number): RoleContextClient {
    return new RoleContextClient(new GrpcClient(ROLE_CONTEXT_CONTRACT, address, deadlineMs));
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
