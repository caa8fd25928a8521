import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { inference } from '@troupe/contracts';
import { HealthService } from '@troupe/health';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { existsSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { InferenceConfig } from '../inference.config';
import { InferenceMetrics } from '../metrics/inference.metrics';
import { GenerationWorkerClient } from '../runtime/generation-worker.client';

interface ModelEntry {
  name: string;
  dir: string;
  client?: GenerationWorkerClient;
  error?: string;
}

export class ModelNotFoundError extends Error {}

/**
 * The models this instance serves: one generation worker per model folder. A folder that
 * fails to load is reported (logs, /health, ListModels) and the others keep serving.
 */
@Injectable()
export class ModelRegistryService implements OnModuleInit, OnApplicationShutdown {
  private readonly models = new Map<string, ModelEntry>();

  constructor(
    private readonly config: InferenceConfig,
    private readonly health: HealthService,
    private readonly metrics: InferenceMetrics,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  async onModuleInit(): Promise<void> {
    const root = resolve(this.config.MODELS_DIR);
    const dirs = existsSync(root)
      ? (await readdir(root, { withFileTypes: true })).filter((d) => d.isDirectory() && existsSync(join(root, d.name, 'manifest.json')))
      : [];
    await Promise.all(dirs.map((d) => this.load(d.name, join(root, d.name))));
    this.health.register('models', async () => {
      const ready = [...this.models.values()].filter((m) => m.client);
      if (ready.length === 0) throw new Error(`no model loaded from ${root}`);
      return ready.map((m) => m.name);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([...this.models.values()].map((m) => m.client?.close()));
  }

  /** The ready model with this name (or the default model for an empty name). */
  get(name: string): GenerationWorkerClient {
    const wanted = name || this.config.DEFAULT_MODEL;
    const entry = this.models.get(wanted);
    if (!entry) throw new ModelNotFoundError(`model "${wanted}" is not served here`);
    if (!entry.client) throw new ModelNotFoundError(`model "${wanted}" failed to load: ${entry.error}`);
    return entry.client;
  }

  list(): inference.ModelInfo[] {
    return [...this.models.values()]
      .sort((a, b) => a.name.localeCompare(b.name))
      .map((m) => ({
        name: m.name,
        version: m.client?.manifest.version ?? '',
        kind: m.client?.manifest.kind ?? '',
        status: m.client ? 'ready' : 'failed',
        error: m.error ?? '',
        contextLength: m.client?.manifest.contextLength ?? 0,
      }));
  }

  private async load(folder: string, dir: string): Promise<void> {
    try {
      const client = await GenerationWorkerClient.start(dir, {
        intraOpThreads: this.config.INFERENCE_THREADS || undefined,
        limits: {
          maxBatchSize: this.config.INFERENCE_MAX_BATCH_SIZE,
          kvCacheBytes: this.config.INFERENCE_KV_CACHE_BYTES,
          maxWaiting: this.config.INFERENCE_MAX_QUEUE,
          maxPrefillTokensPerStep: this.config.INFERENCE_MAX_PREFILL_TOKENS,
        },
      });
      this.metrics.observeEngine(client.manifest.name, (listener) => client.onStats(listener));
      this.models.set(client.manifest.name, { name: client.manifest.name, dir, client });
      this.logger.info({ model: client.manifest.name, version: client.manifest.version, dir }, 'model loaded');
    } catch (e) {
      this.models.set(folder, { name: folder, dir, error: (e as Error).message });
      this.logger.error({ model: folder, dir, err: e }, 'model failed to load');
    }
  }
}
