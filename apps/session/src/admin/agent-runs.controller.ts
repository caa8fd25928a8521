import { Body, Delete, Get, HttpCode, Param, Post, Put, Query, Req } from '@nestjs/common';
import { ApiOperation } from '@nestjs/swagger';
import { AgentRunsService } from '../agents/agent-runs.service';
import { AdminController } from './admin-controller.decorator';
import { AdminRequest } from './admin-auth.guard';
import { RequireRole } from './admin-roles';
import { AuditLog } from './audit-log';
import { EnqueueRunDto, ListRunsQuery, ScheduleDto } from './dto/agent-runs.dto';
import { PaginationQuery } from './dto/pagination.dto';

@AdminController('agent-runs', 'agent runs')
export class AgentRunsController {
  constructor(
    private readonly runs: AgentRunsService,
    private readonly audit: AuditLog,
  ) {}

  @Post()
  @RequireRole('operator')
  @ApiOperation({ summary: 'Enqueue a run (an idempotency key already used returns the earlier run, 200)' })
  async enqueue(@Body() body: EnqueueRunDto, @Req() req: AdminRequest) {
    const { run, duplicate } = await this.runs.enqueue(body);
    if (!duplicate) await this.audit.record(req.actor, 'agent-run.enqueue', run.runId, undefined, body);
    return { run, duplicate };
  }

  @Get()
  @RequireRole('viewer')
  async list(@Query() query: ListRunsQuery) {
    const page = await this.runs.list(query);
    return { ...page, offset: query.offset, limit: query.limit };
  }

  @Get('dead-letters')
  @RequireRole('viewer')
  @ApiOperation({ summary: 'Runs that exhausted their attempts, with their error' })
  async deadLetters(@Query() query: PaginationQuery) {
    return { ...(await this.runs.deadLetters(query.offset, query.limit)), offset: query.offset, limit: query.limit };
  }

  @Delete('dead-letters/:runId')
  @RequireRole('operator')
  @HttpCode(204)
  async discard(@Param('runId') runId: string, @Req() req: AdminRequest) {
    const before = await this.runs.get(runId);
    await this.runs.discard(runId);
    await this.audit.record(req.actor, 'agent-run.discard', runId, before, undefined);
  }

  @Get('schedules')
  @RequireRole('viewer')
  schedules() {
    return this.runs.schedules();
  }

  @Put('schedules/:id')
  @RequireRole('operator')
  @ApiOperation({ summary: 'Create or change a cron schedule of runs (a BullMQ job scheduler)' })
  async upsertSchedule(@Param('id') id: string, @Body() body: ScheduleDto, @Req() req: AdminRequest) {
    const before = (await this.runs.schedules()).find((s) => s.id === id);
    const after = await this.runs.upsertSchedule(id, body.pattern, { ...body.payload }, body.timezone);
    await this.audit.record(req.actor, 'schedule.put', id, before, body);
    return after;
  }

  @Delete('schedules/:id')
  @RequireRole('operator')
  @HttpCode(204)
  async removeSchedule(@Param('id') id: string, @Req() req: AdminRequest) {
    const before = (await this.runs.schedules()).find((s) => s.id === id);
    await this.runs.removeSchedule(id);
    await this.audit.record(req.actor, 'schedule.delete', id, before, undefined);
  }

  @Get(':runId')
  @RequireRole('viewer')
  get(@Param('runId') runId: string) {
    return this.runs.require(runId);
  }

  @Post(':runId/cancel')
  @RequireRole('operator')
  @HttpCode(200)
  async cancel(@Param('runId') runId: string, @Req() req: AdminRequest) {
    const before = await this.runs.require(runId);
    const after = await this.runs.cancel(runId);
    await this.audit.record(req.actor, 'agent-run.cancel', runId, before, after);
    return after;
  }

  @Post(':runId/retry')
  @RequireRole('operator')
  @HttpCode(200)
  async retry(@Param('runId') runId: string, @Req() req: AdminRequest) {
    const before = await this.runs.require(runId);
    const after = await this.runs.retry(runId);
    await this.audit.record(req.actor, 'agent-run.retry', runId, before, after);
    return after;
  }
}
