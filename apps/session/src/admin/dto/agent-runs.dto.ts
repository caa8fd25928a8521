import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { AGENT_RUN_STATUSES, AgentRetryPolicy, AgentRunPayload, AgentRunStatus, ROLE_ID_PATTERN } from '@troupe/domain';
import { IsIn, IsOptional, IsString, Matches, MaxLength, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import type { TraceCarrierDto } from '@troupe/tracing';
import { PaginationQuery } from './pagination.dto';

/** POST /admin/agent-runs: the `agent.run` payload of the queue map (validated by its own decorators). */
export class EnqueueRunDto extends AgentRunPayload {
  @ApiProperty({ example: 'helper', description: 'role id' })
  declare role: string;

  @ApiProperty({ example: 'Summarise the open tickets.' })
  declare task: string;

  @ApiPropertyOptional({ type: 'object', additionalProperties: true, example: { ticket: 'T-12' } })
  declare inputs?: Record<string, string | number | boolean>;

  @ApiPropertyOptional({ description: 'run inside this session; otherwise the run opens one of its own' })
  declare sessionId?: string;

  @ApiPropertyOptional({ description: 'the same key never runs twice' })
  declare idempotencyKey?: string;

  @ApiPropertyOptional({ format: 'date-time' })
  declare deadline?: string;

  @ApiPropertyOptional({ example: { attempts: 3, backoffMs: 1000 } })
  declare retry?: AgentRetryPolicy;

  @ApiPropertyOptional({ format: 'uri', description: 'POSTed the result, signed with X-Troupe-Signature' })
  declare webhookUrl?: string;

  @ApiPropertyOptional({ minimum: 1 })
  declare tokenBudget?: number;

  @ApiPropertyOptional({ description: 'set by the worker for delegated runs' })
  declare parentRunId?: string;

  @ApiPropertyOptional({
    example: { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    description: 'W3C trace context to continue (set by the service itself when tracing is on)',
  })
  declare traceContext?: TraceCarrierDto;
}

export class ListRunsQuery extends PaginationQuery {
  @ApiPropertyOptional({ enum: AGENT_RUN_STATUSES })
  @IsOptional()
  @IsIn([...AGENT_RUN_STATUSES])
  status?: AgentRunStatus;

  @ApiPropertyOptional()
  @IsOptional()
  @Matches(ROLE_ID_PATTERN, { message: 'role must be a role id' })
  role?: string;
}

export class ScheduleDto {
  @ApiProperty({ example: '0 */15 * * * *', description: 'cron pattern (seconds field optional)' })
  @IsString()
  @Matches(/^\S+( \S+){4,5}$/, { message: 'pattern must be a cron pattern of 5 or 6 fields' })
  pattern!: string;

  @ApiPropertyOptional({ example: 'Europe/Paris' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  timezone?: string;

  @ApiProperty({ type: EnqueueRunDto })
  @ValidateNested()
  @Type(() => EnqueueRunDto)
  payload!: EnqueueRunDto;
}
