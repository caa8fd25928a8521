import { Injectable } from '@nestjs/common';
import { roleContext } from '@troupe/contracts';
import { RoleContextClient } from '../peers/role-context.client';
import { ToolPluginClient } from '../peers/tool-plugin.client';
import { AdminHttpError } from './admin-errors';
import { RoleBodyDto, RoleExportDto } from './dto/roles.dto';
import { ROLE_ID_PATTERN } from '@troupe/domain';

export interface FieldChange {
  field: string;
  from: unknown;
  to: unknown;
}

/** The fields of two role versions that differ (version itself aside). */
export function diffRoles(a: object, b: object): FieldChange[] {
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  const fields = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].filter((f) => f !== 'version').sort();
  return fields.filter((f) => JSON.stringify(ra[f]) !== JSON.stringify(rb[f])).map((field) => ({ field, from: ra[field], to: rb[field] }));
}

/** The role as a definition again (what PutRole takes): everything but id and version. */
export function definitionOf(role: roleContext.Role): RoleBodyDto {
  const { id: _id, version: _version, ...definition } = role;
  return definition as unknown as RoleBodyDto;
}

/** Roles, their versions, tools and memory, through role-context's gRPC API (its extra RPCs by name). */
@Injectable()
export class RolesAdminService {
  constructor(
    private readonly roleContext: RoleContextClient,
    private readonly toolPlugin: ToolPluginClient,
  ) {}

  list(): Promise<roleContext.ListRolesResponse> {
    return this.roleContext.listRoles();
  }

  async get(id: string, version = 0): Promise<roleContext.Role> {
    this.checkId(id);
    const { role } = await this.roleContext.grpc.unary<roleContext.GetRoleRequest, roleContext.GetRoleResponse>('getRole', { id, version });
    return role!;
  }

  async find(id: string): Promise<roleContext.Role | undefined> {
    return this.get(id).catch(() => undefined);
  }

  async put(id: string, definition: RoleBodyDto): Promise<roleContext.PutRoleResponse> {
    this.checkId(id);
    return this.roleContext.grpc.unary<roleContext.PutRoleRequest, roleContext.PutRoleResponse>('putRole', { definitionJson: JSON.stringify({ ...definition, id }) });
  }

  async delete(id: string): Promise<boolean> {
    this.checkId(id);
    const r = await this.roleContext.grpc.unary<roleContext.DeleteRoleRequest, roleContext.DeleteRoleResponse>('deleteRole', { id });
    return r.deleted;
  }

  async versions(id: string): Promise<roleContext.Role[]> {
    this.checkId(id);
    const r = await this.roleContext.grpc.unary<roleContext.ListRoleVersionsRequest, roleContext.ListRoleVersionsResponse>('listRoleVersions', { id });
    return r.versions;
  }

  async diff(id: string, from: number, to: number): Promise<{ from: number; to: number; changes: FieldChange[] }> {
    const [a, b] = await Promise.all([this.get(id, from), this.get(id, to)]);
    return { from, to, changes: diffRoles(a, b) };
  }

  /** Enables or disables one tool for a role by changing its tools list (a new role version). */
  async setTool(id: string, tool: string, enabled: boolean): Promise<roleContext.PutRoleResponse> {
    const role = await this.get(id);
    const tools = enabled ? [...new Set([...role.tools, tool])] : role.tools.filter((t) => t !== tool);
    if (enabled) {
      const known = await this.toolPlugin.listTools('');
      if (!known.tools.some((t) => t.name === tool)) throw new AdminHttpError(404, 'UNKNOWN_TOOL', `tool "${tool}" does not exist`, [{ field: 'tool', message: 'unknown tool' }]);
    }
    return this.put(id, { ...definitionOf(role), tools });
  }

  async export(id: string): Promise<RoleExportDto> {
    const role = await this.get(id);
    const { blocks } = await this.roleContext.grpc.unary<roleContext.ListMemoryBlocksRequest, roleContext.ListMemoryBlocksResponse>('listMemoryBlocks', { roleId: id, userId: '' });
    return {
      format: 'troupe.role/v1',
      id,
      role: definitionOf(role),
      memoryBlocks: blocks.filter((b) => b.scope === 'role' || b.scope === 'shared').map((b) => ({ name: b.name, scope: b.scope as 'role' | 'shared', text: b.text })),
    };
  }

  async import(file: RoleExportDto): Promise<{ role: roleContext.Role; changed: boolean; memoryBlocks: number }> {
    const { role, changed } = await this.put(file.id, file.role);
    for (const block of file.memoryBlocks) {
      await this.roleContext.grpc.unary<roleContext.PutMemoryBlockRequest, roleContext.PutMemoryBlockResponse>('putMemoryBlock', {
        roleId: file.id,
        userId: '',
        name: block.name,
        text: block.text,
        mode: 'replace',
        expectedVersion: 0,
        scope: block.scope,
      });
    }
    return { role: role!, changed, memoryBlocks: file.memoryBlocks.length };
  }

  cacheStats(): Promise<roleContext.GetCacheStatsResponse> {
    return this.roleContext.grpc.unary('getCacheStats', {});
  }

  private checkId(id: string): void {
    if (!ROLE_ID_PATTERN.test(id)) throw new AdminHttpError(400, 'INVALID_REQUEST', 'id must be a role id', [{ field: 'id', message: 'must be a role id' }]);
  }
}
