import { Body, Delete, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { AdminController } from './admin-controller.decorator';
import { AdminRequest } from './admin-auth.guard';
import { AdminHttpError } from './admin-errors';
import { RequireRole } from './admin-roles';
import { AuditLog } from './audit-log';
import { DiffQuery, RoleBodyDto, RoleExportDto, VersionQuery } from './dto/roles.dto';
import { RolesAdminService } from './roles-admin.service';

@AdminController('roles', 'roles')
export class RolesController {
  constructor(
    private readonly roles: RolesAdminService,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @RequireRole('viewer')
  list() {
    return this.roles.list();
  }

  @Post('import')
  @RequireRole('admin')
  @ApiOperation({ summary: 'Import a role file (as export answers it) with its memory blocks' })
  async import(@Body() body: RoleExportDto, @Req() req: AdminRequest) {
    const before = await this.roles.find(body.id);
    const out = await this.roles.import(body);
    await this.audit.record(req.actor, 'role.import', body.id, before, out.role);
    return out;
  }

  @Get(':id')
  @RequireRole('viewer')
  get(@Param('id') id: string, @Query() q: VersionQuery) {
    return this.roles.get(id, q.version ?? 0);
  }

  @Put(':id')
  @RequireRole('admin')
  @ApiOperation({ summary: 'Create or change a role (each change is a new version)' })
  async put(@Param('id') id: string, @Body() body: RoleBodyDto, @Req() req: AdminRequest) {
    const before = await this.roles.find(id);
    const out = await this.roles.put(id, body);
    if (out.changed) await this.audit.record(req.actor, 'role.put', id, before, out.role);
    return out;
  }

  @Delete(':id')
  @RequireRole('admin')
  @HttpCode(204)
  async delete(@Param('id') id: string, @Req() req: AdminRequest) {
    const before = await this.roles.get(id);
    if (!(await this.roles.delete(id))) throw new AdminHttpError(404, 'NOT_FOUND', `role "${id}" does not exist`, [{ field: 'id', message: 'unknown role' }]);
    await this.audit.record(req.actor, 'role.delete', id, before, undefined);
  }

  @Get(':id/versions')
  @RequireRole('viewer')
  versions(@Param('id') id: string) {
    return this.roles.versions(id);
  }

  @Get(':id/diff')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Fields that differ between two versions' })
  diff(@Param('id') id: string, @Query() q: DiffQuery) {
    return this.roles.diff(id, q.from, q.to);
  }

  @Get(':id/export')
  @RequireRole('viewer')
  export(@Param('id') id: string) {
    return this.roles.export(id);
  }

  @Put(':id/tools/:tool')
  @RequireRole('admin')
  @ApiOperation({ summary: 'Enable a tool for the role' })
  async enableTool(@Param('id') id: string, @Param('tool') tool: string, @Req() req: AdminRequest) {
    return this.changeTool(id, tool, true, req);
  }

  @Delete(':id/tools/:tool')
  @RequireRole('admin')
  @ApiOperation({ summary: 'Disable a tool for the role' })
  async disableTool(@Param('id') id: string, @Param('tool') tool: string, @Req() req: AdminRequest) {
    return this.changeTool(id, tool, false, req);
  }

  private async changeTool(id: string, tool: string, enabled: boolean, req: AdminRequest) {
    const before = await this.roles.get(id);
    const out = await this.roles.setTool(id, tool, enabled);
    if (out.changed) await this.audit.record(req.actor, enabled ? 'role.tool.enable' : 'role.tool.disable', `${id}/${tool}`, before, out.role);
    return out;
  }
}
