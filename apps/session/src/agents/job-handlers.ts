import { AGENT_QUEUES, AgentJobName, AgentJobPayloads, AgentQueueName } from '@troupe/domain';
import { UnrecoverableError } from 'bullmq';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validate } from 'class-validator';

export interface JobContext {
  jobId: string;
  token?: string;
  signal?: AbortSignal;
}

export type JobHandler<N extends AgentJobName> = (payload: AgentJobPayloads[N], context: JobContext) => Promise<unknown>;
export type JobHandlers = { [N in AgentJobName]?: JobHandler<N> };

/** Refuses to start a worker that would leave a job kind of the map without a handler. */
export function assertHandlersCover(queue: AgentQueueName, handlers: JobHandlers): void {
  const missing = AGENT_QUEUES[queue].filter((name) => typeof handlers[name] !== 'function');
  if (missing.length) throw new Error(`queue ${queue}: no handler for job kind(s) ${missing.join(', ')}`);
}

/** Flattened class-validator errors: `retry.attempts: must not be less than 1`. */
export function describeValidationErrors(errors: ValidationError[], parent = ''): { field: string; message: string }[] {
  return errors.flatMap((e) => {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((message) => ({ field, message }));
    return [...own, ...describeValidationErrors(e.children ?? [], field)];
  });
}

/** A payload of the typed map, validated; a bad one fails the job for good, naming the field. */
export async function validatePayload<T extends object>(cls: new () => T, data: unknown): Promise<T> {
  const instance = plainToInstance(cls, data ?? {});
  const errors = await validate(instance, { whitelist: true, forbidNonWhitelisted: true });
  if (errors.length) {
    const detail = describeValidationErrors(errors).map((e) => `${e.field}: ${e.message}`).join('; ');
    throw new UnrecoverableError(`INVALID_PAYLOAD: ${detail}`);
  }
  return instance;
}
