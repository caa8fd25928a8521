import { Controller } from '@nestjs/common';
import { roleContext } from '@troupe/contracts';
import { GrpcStatus, ValidatedRequests, grpcError, notFound, validateGrpcRequest } from '@troupe/grpc';
import { CacheRegistry } from '../caches/cache-registry';
import { ContextRequestError, ContextService, RoleNotFoundError } from '../context/context.service';
import { HistoryService } from '../history/history.service';
import { MemoryRequestError, MemoryService } from '../memory/memory.service';
import { RecallService } from '../recall/recall.service';
import { StoredRole } from '../roles/role';
import { RoleDefinitionError } from '../roles/role-definition.parser';
import { RolesService } from '../roles/roles.service';
import {
  AppendHistoryDto,
  AssembleContextDto,
  GetHistoryDto,
  GetMemoryBlockDto,
  GetRoleDto,
  MemoryOwnerDto,
  PutMemoryBlockDto,
  PutRoleDto,
  RecallFactsDto,
  RememberFactDto,
  RoleIdDto,
} from './dto/role-context-requests.dto';

const MAX_HISTORY_PAGE = 1000;
const DEFAULT_RECALL_K = 5;

/** Maps domain errors to gRPC statuses; anything else stays INTERNAL. */
async function answer<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (e) {
    if (e instanceof RoleNotFoundError) throw notFound(e.message);
    if (e instanceof RoleDefinitionError || e instanceof ContextRequestError) throw grpcError(GrpcStatus.INVALID_ARGUMENT, e.message);
    if (e instanceof MemoryRequestError) throw grpcError(e.kind === 'denied' ? GrpcStatus.PERMISSION_DENIED : GrpcStatus.INVALID_ARGUMENT, e.message);
    throw e;
  }
}

@Controller()
@roleContext.RoleContextServiceControllerMethods()
export class RoleContextController implements roleContext.RoleContextServiceController {
  /** Sessions repeat the same AssembleContext request every turn. */
  private readonly assembleRequests = new ValidatedRequests(AssembleContextDto);

  constructor(
    private readonly roles: RolesService,
    private readonly history: HistoryService,
    private readonly context: ContextService,
    private readonly memory: MemoryService,
    private readonly recall: RecallService,
    private readonly caches: CacheRegistry,
  ) {}

  async getRole(request: roleContext.GetRoleRequest): Promise<roleContext.GetRoleResponse> {
    const { id, version } = validateGrpcRequest(GetRoleDto, request);
    return { role: await this.role(id, version) };
  }

  async listRoles(): Promise<roleContext.ListRolesResponse> {
    return { roles: await this.roles.list() };
  }

  async putRole(request: roleContext.PutRoleRequest): Promise<roleContext.PutRoleResponse> {
    const { definitionJson } = validateGrpcRequest(PutRoleDto, request);
    return answer(() => this.roles.put(definitionJson));
  }

  async deleteRole(request: roleContext.DeleteRoleRequest): Promise<roleContext.DeleteRoleResponse> {
    const { id } = validateGrpcRequest(RoleIdDto, request);
    return { deleted: await this.roles.delete(id) };
  }

  async listRoleVersions(request: roleContext.ListRoleVersionsRequest): Promise<roleContext.ListRoleVersionsResponse> {
    const { id } = validateGrpcRequest(RoleIdDto, request);
    const versions = await this.roles.versions(id);
    if (versions.length === 0) throw notFound(`role "${id}" not found`);
    return { versions };
  }

  async appendHistory(request: roleContext.AppendHistoryRequest): Promise<roleContext.AppendHistoryResponse> {
    const { sessionId, entry } = validateGrpcRequest(AppendHistoryDto, request);
    return { id: await this.history.append(sessionId, entry) };
  }

  async getHistory(request: roleContext.GetHistoryRequest): Promise<roleContext.GetHistoryResponse> {
    const { sessionId, limit } = validateGrpcRequest(GetHistoryDto, request);
    const count = limit > 0 ? Math.min(limit, MAX_HISTORY_PAGE) : MAX_HISTORY_PAGE;
    return this.history.read(sessionId, count);
  }

  async assembleContext(request: roleContext.AssembleContextRequest): Promise<roleContext.AssembleContextResponse> {
    // A request that appends is one of a kind (its entry): checked each time, not remembered.
    const dto = request.append ? validateGrpcRequest(AssembleContextDto, request) : this.assembleRequests.validate(request);
    return answer(() => this.context.assemble(dto));
  }

  async listMemoryBlocks(request: roleContext.ListMemoryBlocksRequest): Promise<roleContext.ListMemoryBlocksResponse> {
    const { roleId, userId } = validateGrpcRequest(MemoryOwnerDto, request);
    return { blocks: await this.memory.visible(await this.role(roleId), userId) };
  }

  async getMemoryBlock(request: roleContext.GetMemoryBlockRequest): Promise<roleContext.GetMemoryBlockResponse> {
    const { roleId, userId, name, scope } = validateGrpcRequest(GetMemoryBlockDto, request);
    const role = await this.role(roleId);
    const block = await answer(() => this.memory.get(role, userId, name, scope));
    if (!block) throw notFound(`memory block "${name}" not found`);
    return { block };
  }

  async putMemoryBlock(request: roleContext.PutMemoryBlockRequest): Promise<roleContext.PutMemoryBlockResponse> {
    const dto = validateGrpcRequest(PutMemoryBlockDto, request);
    const role = await this.role(dto.roleId);
    const outcome = await answer(() => this.memory.put(role, dto));
    if (outcome.kind === 'conflict') {
      throw grpcError(GrpcStatus.ABORTED, `expectedVersion: block "${dto.name}" is at version ${outcome.version}, not ${dto.expectedVersion}`);
    }
    if (outcome.kind === 'too-large') {
      throw grpcError(GrpcStatus.FAILED_PRECONDITION, `text: block "${dto.name}" would hold ${outcome.chars} characters; its limit is ${outcome.limit}`);
    }
    return { block: outcome.block };
  }

  async rememberFact(request: roleContext.RememberFactRequest): Promise<roleContext.RememberFactResponse> {
    const { roleId, userId, text } = validateGrpcRequest(RememberFactDto, request);
    await this.role(roleId);
    return this.recall.remember(roleId, userId, text);
  }

  async recallFacts(request: roleContext.RecallFactsRequest): Promise<roleContext.RecallFactsResponse> {
    const { roleId, userId, query, topK } = validateGrpcRequest(RecallFactsDto, request);
    const role = await this.role(roleId);
    return this.recall.recall(roleId, userId, query, topK || role.memory?.recallTopK || DEFAULT_RECALL_K);
  }

  getCacheStats(): roleContext.GetCacheStatsResponse {
    return { classes: this.caches.stats() };
  }

  private async role(id: string, version = 0): Promise<StoredRole> {
    const role = await this.roles.get(id, version);
    if (!role) throw notFound(version ? `role "${id}" has no version ${version}` : `role "${id}" not found`);
    return role;
  }
}
