import { Controller } from '@nestjs/common';
import { roleContext } from '@troupe/contracts';
import { GrpcStatus, grpcError, notFound, validateGrpcRequest } from '@troupe/grpc';
import { ContextService, RoleNotFoundError } from '../context/context.service';
import { HistoryRepository } from '../history/history.repository';
import { RolesService } from '../roles/roles.service';
import { AppendHistoryDto, AssembleContextDto, GetHistoryDto, GetRoleDto } from './dto/role-context-requests.dto';

const MAX_HISTORY_PAGE = 1000;

@Controller()
@roleContext.RoleContextServiceControllerMethods()
export class RoleContextController implements roleContext.RoleContextServiceController {
  constructor(
    private readonly roles: RolesService,
    private readonly history: HistoryRepository,
    private readonly context: ContextService,
  ) {}

  async getRole(request: roleContext.GetRoleRequest): Promise<roleContext.GetRoleResponse> {
    const { id } = validateGrpcRequest(GetRoleDto, request);
    const role = await this.roles.get(id);
    if (!role) throw notFound(`role "${id}" not found`);
    return { role };
  }

  async listRoles(): Promise<roleContext.ListRolesResponse> {
    return { roles: await this.roles.list() };
  }

  async appendHistory(request: roleContext.AppendHistoryRequest): Promise<roleContext.AppendHistoryResponse> {
    const { sessionId, entry } = validateGrpcRequest(AppendHistoryDto, request);
    return { id: await this.history.append(sessionId, entry) };
  }

  async getHistory(request: roleContext.GetHistoryRequest): Promise<roleContext.GetHistoryResponse> {
    const { sessionId, limit } = validateGrpcRequest(GetHistoryDto, request);
    const count = limit > 0 ? Math.min(limit, MAX_HISTORY_PAGE) : MAX_HISTORY_PAGE;
    return { entries: await this.history.recent(sessionId, count) };
  }

  async assembleContext(request: roleContext.AssembleContextRequest): Promise<roleContext.AssembleContextResponse> {
    const { sessionId, roleId } = validateGrpcRequest(AssembleContextDto, request);
    try {
      return await this.context.assemble(sessionId, roleId);
    } catch (e) {
      if (e instanceof RoleNotFoundError) throw notFound(e.message);
      throw e;
    }
  }

  // Memory blocks arrive with the role-context issue.
  listMemoryBlocks(): roleContext.ListMemoryBlocksResponse {
    throw grpcError(GrpcStatus.UNIMPLEMENTED, 'memory blocks are not implemented yet');
  }

  getMemoryBlock(): roleContext.GetMemoryBlockResponse {
    throw grpcError(GrpcStatus.UNIMPLEMENTED, 'memory blocks are not implemented yet');
  }

  putMemoryBlock(): roleContext.PutMemoryBlockResponse {
    throw grpcError(GrpcStatus.UNIMPLEMENTED, 'memory blocks are not implemented yet');
  }
}
