import { Type } from 'class-transformer';
import {
  IsISO8601,
  IsInt,
  IsObject,
  IsOptional,
  IsString,
  IsUrl,
  Matches,
  Max,
  MaxLength,
  Min,
  MinLength,
  ValidateNested,
} from 'class-validator';
import { TraceCarrierDto } from '@troupe/tracing';
import { TokenUsage, TurnStopReason } from './chat-protocol';
import { ROLE_ID_PATTERN } from './ids';

/**
 * Queue names, job names and each job's payload, in one typed map. Producers (the admin API,
 * schedules, the `delegate` tool, any outside BullMQ client) and the workers share it; the
 * worker refuses to start when a job kind here has no handler.
 */
export const AGENT_QUEUES = {
  'agent-runs': ['agent.run'],
  'agent-webhooks': ['agent.webhook'],
} as const;

export type AgentQueueName = keyof typeof AGENT_QUEUES;
export type AgentJobName<Q extends AgentQueueName = AgentQueueName> = (typeof AGENT_QUEUES)[Q][number];

export interface AgentJobPayloads {
  'agent.run': AgentRunPayload;
  'agent.webhook': AgentWebhookPayload;
}

/** Retry policy of one run: attempts and exponential backoff. */
export class AgentRetryPolicy {
  @IsInt()
  @Min(1)
  @Max(20)
  attempts = 3;

  /** First backoff; doubled on every further attempt. */
  @IsInt()
  @Min(0)
  @Max(3_600_000)
  backoffMs = 1_000;
}

/** `agent.run`: role R carries out task T with inputs, optionally inside an existing session. */
export class AgentRunPayload {
  /** Role id (as in role-context). */
  @Matches(ROLE_ID_PATTERN, { message: 'role must be a role id' })
  role!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(20_000)
  task!: string;

  /** Named inputs, shown to the role after the task. */
  @IsOptional()
  @IsObject()
  inputs?: Record<string, string | number | boolean>;

  /** Run inside this session (its people see the run's events); otherwise the run gets a session of its own. */
  @IsOptional()
  @IsString()
  @MaxLength(64)
  sessionId?: string;

  /** The same key never runs twice (kept for the run retention time). */
  @IsOptional()
  @Matches(/^[\w.:-]{1,200}$/, { message: 'idempotencyKey must be 1-200 letters, digits, or . : _ -' })
  idempotencyKey?: string;

  /** ISO 8601 time after which the run is abandoned (no retry). */
  @IsOptional()
  @IsISO8601()
  deadline?: string;

  @IsOptional()
  @ValidateNested()
  @Type(() => AgentRetryPolicy)
  retry?: AgentRetryPolicy;

  /** Where the result is POSTed (signed with HMAC-SHA256, retried). */
  @IsOptional()
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  webhookUrl?: string;

  /** Tokens the run may generate (the session policy's token budget). */
  @IsOptional()
  @IsInt()
  @Min(1)
  @Max(1_000_000)
  tokenBudget?: number;

  /** Set by the worker for runs started through the `delegate` tool. */
  @IsOptional()
  @IsString()
  @MaxLength(200)
  parentRunId?: string;

  /** W3C trace context of whoever queued the run (set on enqueue when tracing is on); the worker continues that trace. */
  @IsOptional()
  @ValidateNested()
  @Type(() => TraceCarrierDto)
  traceContext?: TraceCarrierDto;
}

/** `agent.webhook`: one signed POST of a finished run. */
export class AgentWebhookPayload {
  @IsString()
  runId!: string;

  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true })
  url!: string;
}

export const AGENT_RUN_STATUSES = ['queued', 'active', 'waiting-children', 'completed', 'failed', 'cancelled'] as const;
export type AgentRunStatus = (typeof AGENT_RUN_STATUSES)[number];

export interface AgentRunReply {
  roleId: string;
  text: string;
}

/** What a finished run returns (the BullMQ return value, stored with the run). */
export interface AgentRunResult {
  runId: string;
  sessionId: string;
  reason: TurnStopReason;
  detail: string;
  text: string;
  replies: AgentRunReply[];
  usage: TokenUsage;
  /** Results of runs this one delegated to, by child run id. */
  children: Record<string, AgentRunResult>;
}

/** A run as stored (Redis, with retention) and shown by the admin API. */
export interface AgentRunRecord {
  runId: string;
  status: AgentRunStatus;
  role: string;
  task: string;
  sessionId: string;
  parentRunId: string;
  idempotencyKey: string;
  attempts: number;
  enqueuedAt: number;
  startedAt: number;
  finishedAt: number;
  result?: AgentRunResult;
  error: string;
}

/** Session event announcing a run's end (pushed into the session's event log). */
export interface AgentRunEvent {
  sessionId: string;
  runId: string;
  role: string;
  status: AgentRunStatus;
  text: string;
  error: string;
}

// Background runs announce their end in the session's event log, next to the chat events.
declare module './chat-protocol' {
  interface ServerToClientEvents {
    'agent.run': (event: AgentRunEvent & { seq: number }) => void;
  }
}
