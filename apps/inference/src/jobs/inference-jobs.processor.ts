import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { HealthService } from '@troupe/health';
import { GenerateJobResult, INFERENCE_JOBS_QUEUE, INFERENCE_JOB_NAMES, InferenceJobName, InferenceJobs, inferenceJobsPrefix } from '@troupe/inference-jobs';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { Redis } from '@troupe/redis';
import { TraceCarrierDto, inJobSpan } from '@troupe/tracing';
import { Job, UnrecoverableError, Worker } from 'bullmq';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { lastValueFrom } from 'rxjs';
import { GenerateRequestDto } from '../generation/dto/generate-request.dto';
import { GenerationService } from '../generation/generation.service';
import { InferenceConfig } from '../inference.config';

type Handlers = { [K in InferenceJobName]: (payload: unknown) => Promise<InferenceJobs[K]['result']> };

/**
 * BullMQ worker of the `inference-jobs` queue: each job is a bulk generation fed to the same
 * batch scheduler as gRPC requests, at bulk priority (interactive requests are admitted first).
 * The result is stored as the job's return value. A payload that fails validation fails its
 * job at once (no retry) with the field named; a failure of ours is retried by BullMQ.
 */
@Injectable()
export class InferenceJobsProcessor implements OnModuleInit, OnApplicationShutdown {
  private worker?: Worker;
  private connection?: Redis;
  private readonly handlers: Handlers = {
    generate: (payload) => this.generate(payload),
  };

  constructor(
    private readonly generation: GenerationService,
    private readonly config: InferenceConfig,
    private readonly health: HealthService,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  onModuleInit(): void {
    // Refuse to start with a job kind nobody handles.
    const missing = INFERENCE_JOB_NAMES.filter((n) => typeof this.handlers[n] !== 'function');
    if (missing.length) throw new Error(`no handler for inference job kinds: ${missing.join(', ')}`);
    if (!this.config.INFERENCE_JOBS_ENABLED) return;
    // BullMQ needs its own connection without ioredis keyPrefix and with blocking commands allowed.
    this.connection = new Redis(this.config.REDIS_URL, { maxRetriesPerRequest: null, connectionName: 'inference-jobs' });
    this.worker = new Worker(INFERENCE_JOBS_QUEUE, (job: Job) => this.process(job), {
      connection: this.connection,
      prefix: inferenceJobsPrefix(this.config.REDIS_KEY_PREFIX),
      concurrency: this.config.INFERENCE_JOBS_CONCURRENCY,
    });
    this.worker.on('failed', (job, err) => this.logger.warn({ jobId: job?.id, job: job?.name, err: err.message }, 'inference job failed'));
    this.worker.on('error', (err) => this.logger.error({ err }, 'inference job worker error'));
    this.health.register('inference-jobs', async () => {
      if (!this.worker?.isRunning()) throw new Error('inference-jobs worker is not running');
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await this.worker?.close();
    await this.connection?.quit().catch(() => this.connection?.disconnect());
  }

  /** Each job continues the trace its producer put in its data. */
  private process(job: Job): Promise<unknown> {
    return inJobSpan(INFERENCE_JOBS_QUEUE, job, async () => {
      const handler = (this.handlers as Record<string, (p: unknown) => Promise<unknown>>)[job.name];
      if (!handler) throw new UnrecoverableError(`unknown job name "${job.name}" (known: ${INFERENCE_JOB_NAMES.join(', ')})`);
      return handler(job.data);
    });
  }

  private async generate(payload: unknown): Promise<GenerateJobResult> {
    const { traceContext, ...body } = (typeof payload === 'object' && payload !== null ? payload : {}) as Record<string, unknown>;
    const carrierErrors = traceContext === undefined ? [] : validateSync(plainToInstance(TraceCarrierDto, traceContext ?? {}), { whitelist: true, forbidNonWhitelisted: true });
    if (carrierErrors.length > 0) throw new UnrecoverableError(`invalid job payload: ${describe(carrierErrors, 'traceContext')}`);
    const dto = plainToInstance(GenerateRequestDto, { ...body, priority: 'bulk' });
    const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
    if (errors.length > 0) throw new UnrecoverableError(`invalid job payload: ${describe(errors)}`);
    const last = await lastValueFrom(this.generation.generate(dto));
    const done = last.done;
    if (!done) throw new Error('generation ended without a result');
    return { text: done.text, finishReason: done.finishReason, model: done.model, usage: { promptTokens: done.usage?.promptTokens ?? 0, completionTokens: done.usage?.completionTokens ?? 0 } };
  }
}

/** "field.path: problem" for the first few validation errors. */
function describe(errors: ReturnType<typeof validateSync>, parent = ''): string {
  const out: string[] = [];
  for (const e of errors) {
    const path = parent ? `${parent}.${e.property}` : e.property;
    if (e.constraints) out.push(`${path}: ${Object.values(e.constraints).join(', ')}`);
    if (e.children?.length) out.push(describe(e.children, path));
  }
  return out.filter(Boolean).slice(0, 5).join('; ');
}
