import { Delete, Get, HttpCode, Param, Post, Query, Req } from '@nestjs/common';
import { ApiPropertyOptional } from '@nestjs/swagger';
import { Type } from 'class-transformer';
import { IsIn, IsInt, IsOptional, IsString, Matches, Max, MaxLength, Min } from 'class-validator';
import { InferenceClient } from '../peers/inference.client';
import { ToolPluginClient } from '../peers/tool-plugin.client';
import { AdminController } from './admin-controller.decorator';
import { AdminRequest } from './admin-auth.guard';
import { RequireRole } from './admin-roles';
import { AuditLog } from './audit-log';
import { PaginationQuery } from './dto/pagination.dto';
import { RolesAdminService } from './roles-admin.service';
import { SessionsAdminService } from './sessions-admin.service';
import { ROLE_ID_PATTERN } from '@troupe/domain';

class ToolsQuery {
  @ApiPropertyOptional({ description: 'only the tools granted to this role' })
  @IsOptional()
  @Matches(ROLE_ID_PATTERN, { message: 'role must be a role id' })
  role?: string;
}

class SessionsQuery extends PaginationQuery {
  @ApiPropertyOptional()
  @IsOptional()
  @IsString()
  @MaxLength(200)
  owner?: string;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ROLE_ID_PATTERN, { message: 'role must be a role id' })
  role?: string;
}

class EventsQuery {
  @ApiPropertyOptional({ default: 0, description: 'events after this sequence number' })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(0)
  after = 0;

  @ApiPropertyOptional({ default: 200 })
  @IsOptional()
  @Type(() => Number)
  @IsInt()
  @Min(1)
  @Max(1000)
  limit = 200;
}

@AdminController('tools', 'tools')
export class ToolsController {
  constructor(private readonly toolPlugin: ToolPluginClient) {}

  @Get()
  @RequireRole('viewer')
  list(@Query() q: ToolsQuery) {
    return this.toolPlugin.listTools(q.role ?? '');
  }
}

class ModelActionParams {
  @Matches(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, { message: 'name must be a model or folder name' })
  name!: string;

  @IsIn(['load', 'reload', 'unload'])
  action!: 'load' | 'reload' | 'unload';
}

const MODEL_ACTIONS = { load: 'loadModel', reload: 'reloadModel', unload: 'unloadModel' } as const;

@AdminController('models', 'models')
export class ModelsController {
  constructor(
    private readonly inference: InferenceClient,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @RequireRole('viewer')
  list() {
    return this.inference.listModelsEverywhere();
  }

  /** POST /admin/models/:name/load | reload | unload — on every inference instance, without a restart. */
  @Post(':name/:action')
  @HttpCode(200)
  @RequireRole('operator')
  async change(@Param() { name, action }: ModelActionParams, @Req() req: AdminRequest) {
    const result = await this.inference.changeModel(MODEL_ACTIONS[action], name);
    await this.audit.record(req.actor, `model.${action}`, name, undefined, result.model);
    return result;
  }
}

@AdminController('cache-stats', 'caches')
export class CacheStatsController {
  constructor(private readonly roles: RolesAdminService) {}

  @Get()
  @RequireRole('viewer')
  stats() {
    return this.roles.cacheStats();
  }
}

@AdminController('audit', 'audit')
export class AuditController {
  constructor(private readonly audit: AuditLog) {}

  @Get()
  @RequireRole('admin')
  async list(@Query() q: PaginationQuery) {
    return { items: await this.audit.list(q.offset, q.limit), offset: q.offset, limit: q.limit };
  }
}

@AdminController('sessions', 'sessions')
export class SessionsAdminController {
  constructor(
    private readonly sessions: SessionsAdminService,
    private readonly audit: AuditLog,
  ) {}

  @Get()
  @RequireRole('viewer')
  async list(@Query() q: SessionsQuery) {
    return { ...(await this.sessions.list(q)), offset: q.offset, limit: q.limit };
  }

  @Get(':id')
  @RequireRole('viewer')
  get(@Param('id') id: string) {
    return this.sessions.get(id);
  }

  @Get(':id/events')
  @RequireRole('viewer')
  events(@Param('id') id: string, @Query() q: EventsQuery) {
    return this.sessions.events(id, q.after, q.limit);
  }

  @Get(':id/history')
  @RequireRole('viewer')
  history(@Param('id') id: string, @Query() q: EventsQuery) {
    return this.sessions.history(id, q.limit);
  }

  @Delete(':id')
  @RequireRole('operator')
  async end(@Param('id') id: string, @Req() req: AdminRequest) {
    const out = await this.sessions.end(id);
    await this.audit.record(req.actor, 'session.end', id, out.session, undefined);
    return out;
  }
}
