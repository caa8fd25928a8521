import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { inference } from '@troupe/contracts';
import { HealthService } from '@troupe/health';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InferenceConfig, InferenceSecrets } from '../inference.config';
import { InferenceMetrics } from '../metrics/inference.metrics';
import { EmbeddingWorkerClient } from '../runtime/embedding-worker.client';
import { GenerationWorkerClient } from '../runtime/generation-worker.client';
import { PacedModelClient } from '../runtime/paced-model.client';
import { OpenAiCompatibleClient } from '../remote/openai-compatible.client';
import { RouterModelClient } from '../routing/router-model.client';
import type { TextModel } from '../runtime/text-model';
import { readManifestKind } from '../runtime/manifest-fields';
import { MODEL_FOLDER_PATTERN, fingerprintModelFolder, scanModelDirectory } from './model-directory';
import { ModelDirectoryWatcher } from './model-directory.watcher';

type ModelState = 'loading' | 'ready' | 'failed' | 'unloaded';

/** One instance serving a model, whatever its kind. */
type ServedModel = TextModel | EmbeddingWorkerClient;

export type { TextModel };

interface InstanceOptions {
  intraOpThreads?: number;
  executionProviders: string[];
  limits: NonNullable<Parameters<typeof GenerationWorkerClient.start>[1]>['limits'];
  streamIntervalMs: number;
  /** API keys of remote models, by environment variable name. */
  secret: (name: string) => string;
  /** Other text models served here, by name (what routers send requests to). */
  resolve: (name: string) => TextModel;
}

/** How each manifest kind is started. */
const LOADERS: Record<string, (dir: string, opts: InstanceOptions) => Promise<ServedModel>> = {
  'causal-lm': (dir, opts) => GenerationWorkerClient.start(dir, opts),
  embedding: (dir, opts) => EmbeddingWorkerClient.start(dir, opts),
  paced: (dir, opts) => PacedModelClient.start(dir, opts.streamIntervalMs),
  'openai-compatible': (dir, opts) => OpenAiCompatibleClient.start(dir, opts.secret),
  router: (dir, opts) => RouterModelClient.start(dir, opts.resolve),
};

interface ModelEntry {
  folder: string;
  /** Manifest name once loaded; the folder name until then. */
  name: string;
  state: ModelState;
  instances: ServedModel[];
  error?: string;
  unhookMetrics?: () => void;
}

export class ModelNotFoundError extends Error {}

/**
 * The models this instance serves, one entry per folder of the models directory, each served
 * by INFERENCE_INSTANCES worker threads. Folders are watched: an added, replaced or removed
 * model takes effect without a restart. A new version starts before the old one retires, and
 * the old one drains: requests finish on the version they started on. A folder that fails to
 * load is reported (log, ListModels, /health/models) and the others keep serving; a failed
 * reload leaves the previous version serving.
 */
@Injectable()
export class ModelRegistryService implements OnModuleInit, OnApplicationShutdown {
  private readonly entries = new Map<string, ModelEntry>();
  /** Per-folder chain so two loads of one folder never interleave. */
  private readonly busy = new Map<string, Promise<unknown>>();
  private readonly retiring = new Set<Promise<void>>();
  private readonly root: string;
  private watcher?: ModelDirectoryWatcher;
  private pollTimer?: NodeJS.Timeout;
  private closed = false;

  constructor(
    private readonly config: InferenceConfig,
    private readonly secrets: InferenceSecrets,
    private readonly health: HealthService,
    private readonly metrics: InferenceMetrics,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.root = resolve(config.MODELS_DIR);
  }

  async onModuleInit(): Promise<void> {
    const initial = scanModelDirectory(this.root);
    await Promise.all([...initial.keys()].map((folder) => this.load(folder)));
    this.watcher = new ModelDirectoryWatcher(initial);
    if (this.config.MODELS_WATCH_INTERVAL_MS > 0) this.schedulePoll();
    this.health.register('models', async () => {
      if (!this.list().some((m) => m.status === 'ready')) throw new Error(`no model loaded from ${this.root}`);
    });
  }

  async onApplicationShutdown(): Promise<void> {
    this.closed = true;
    clearTimeout(this.pollTimer);
    await Promise.allSettled(this.busy.values());
    await Promise.all([...this.entries.values()].flatMap((e) => e.instances.map((c) => c.close())));
    await Promise.all(this.retiring);
  }

  /** The least busy instance of the ready text model (causal-lm, paced, remote, router) with this name (or the default model). */
  get(name: string): TextModel {
    const instance = this.pick(name || this.config.DEFAULT_MODEL);
    if (instance instanceof EmbeddingWorkerClient) throw new ModelNotFoundError(`model "${instance.manifest.name}" is a ${instance.manifest.kind} model, not a causal-lm`);
    return instance;
  }

  /** The least busy instance of the ready embedding model with this name (or the default one). */
  getEmbedding(name: string): EmbeddingWorkerClient {
    const instance = this.pick(name || this.config.DEFAULT_EMBEDDING_MODEL);
    if (!(instance instanceof EmbeddingWorkerClient)) throw new ModelNotFoundError(`model "${instance.manifest.name}" is a ${instance.manifest.kind} model, not an embedding model`);
    return instance;
  }

  private pick(wanted: string): ServedModel {
    const entry = this.byName(wanted);
    if (!entry) throw new ModelNotFoundError(`model "${wanted}" is not served here`);
    if (entry.state !== 'ready') throw new ModelNotFoundError(`model "${wanted}" is ${entry.state}${entry.error ? `: ${entry.error}` : ''}`);
    let best = entry.instances[0];
    for (const c of entry.instances) if (c.openStreams < best.openStreams) best = c;
    return best;
  }

  /** Names of the models ready to serve (what this instance announces in the service registry). */
  readyModelNames(): string[] {
    return [...this.entries.values()].filter((e) => e.state === 'ready').map((e) => e.name);
  }

  /** Generations queued behind the running batches of every local model (as of each worker's last step). */
  waitingRequests(): number {
    let waiting = 0;
    for (const entry of this.entries.values()) for (const c of entry.instances) if (c instanceof GenerationWorkerClient) waiting += c.stats?.waiting ?? 0;
    return waiting;
  }

  list(): inference.ModelInfo[] {
    return [...this.entries.values()].sort((a, b) => a.name.localeCompare(b.name)).map((e) => this.info(e));
  }

  /** Loads (or reloads) a folder of the models directory. */
  async loadFolder(nameOrFolder: string): Promise<inference.ModelInfo> {
    const folder = this.byName(nameOrFolder)?.folder ?? nameOrFolder;
    if (!MODEL_FOLDER_PATTERN.test(folder)) throw new ModelNotFoundError(`"${nameOrFolder}" is not a model folder name`);
    if (!existsSync(join(this.root, folder, 'manifest.json'))) throw new ModelNotFoundError(`no model folder "${folder}" with a manifest.json in ${this.root}`);
    await this.load(folder);
    return this.info(this.entries.get(folder) as ModelEntry);
  }

  /** Reloads a model that is known (ready, failed or unloaded). */
  async reload(nameOrFolder: string): Promise<inference.ModelInfo> {
    const entry = this.byName(nameOrFolder) ?? this.entries.get(nameOrFolder);
    if (!entry) throw new ModelNotFoundError(`model "${nameOrFolder}" is not known here`);
    return this.loadFolder(entry.folder);
  }

  /** Stops serving a model (in-flight requests finish); the watcher leaves it alone until its files change. */
  async unload(nameOrFolder: string): Promise<inference.ModelInfo> {
    const entry = this.byName(nameOrFolder) ?? this.entries.get(nameOrFolder);
    if (!entry) throw new ModelNotFoundError(`model "${nameOrFolder}" is not known here`);
    await this.serialized(entry.folder, async () => {
      this.retire(entry);
      entry.state = 'unloaded';
      entry.error = undefined;
      this.logger.info({ model: entry.name, folder: entry.folder }, 'model unloaded');
    });
    return this.info(entry);
  }

  /** Waits until retired versions have drained and closed (tests and shutdown). */
  async settled(): Promise<void> {
    await Promise.allSettled(this.busy.values());
    await Promise.all(this.retiring);
  }

  private load(folder: string): Promise<void> {
    return this.serialized(folder, async () => {
      const dir = join(this.root, folder);
      const fingerprint = fingerprintModelFolder(dir);
      this.watcher?.acknowledge(folder, fingerprint);
      const entry = this.entries.get(folder) ?? { folder, name: folder, state: 'loading' as ModelState, instances: [] };
      this.entries.set(folder, entry);
      let fresh: ServedModel[];
      try {
        fresh = await this.startInstances(dir);
        const name = fresh[0].manifest.name;
        const clash = [...this.entries.values()].find((e) => e !== entry && e.name === name && e.state === 'ready');
        if (clash) {
          await Promise.all(fresh.map((c) => c.close()));
          throw new Error(`model name "${name}" is already served from folder "${clash.folder}"`);
        }
      } catch (e) {
        const message = (e as Error).message;
        if (entry.state === 'ready') {
          entry.error = `reload failed, previous version still serving: ${message}`;
          this.logger.error({ model: entry.name, folder, err: e }, 'model reload failed; previous version keeps serving');
        } else {
          entry.state = 'failed';
          entry.error = message;
          this.logger.error({ model: folder, folder, err: e }, 'model failed to load');
        }
        return;
      }
      // New version first, then retire the old one (its open streams finish on it).
      this.retire(entry);
      entry.instances = fresh;
      entry.name = fresh[0].manifest.name;
      entry.state = 'ready';
      entry.error = undefined;
      entry.unhookMetrics = this.metrics.observeModel(entry.name, fresh);
      const ep = fresh[0].executionProvider;
      this.logger.info(
        { model: entry.name, version: fresh[0].manifest.version, folder, instances: fresh.length, executionProvider: ep.active, fallback: ep.fallbackReason },
        'model loaded',
      );
    });
  }

  private async startInstances(dir: string): Promise<ServedModel[]> {
    const kind = readManifestKind(dir);
    const loader = LOADERS[kind];
    if (!loader) throw new Error(`${dir}: invalid manifest: "kind" must be one of ${Object.keys(LOADERS).join(', ')} (got "${kind}")`);
    const options: InstanceOptions = {
      intraOpThreads: this.config.INFERENCE_THREADS || undefined,
      executionProviders: this.config.INFERENCE_EXECUTION_PROVIDERS.split(',').map((s) => s.trim()).filter(Boolean),
      limits: {
        maxBatchSize: this.config.INFERENCE_MAX_BATCH_SIZE,
        kvCacheBytes: this.config.INFERENCE_KV_CACHE_BYTES,
        maxWaiting: this.config.INFERENCE_MAX_QUEUE,
        maxPrefillTokensPerStep: this.config.INFERENCE_MAX_PREFILL_TOKENS,
        stepDelayMs: this.config.INFERENCE_STEP_DELAY_MS,
      },
      streamIntervalMs: this.config.INFERENCE_STREAM_INTERVAL_MS,
      secret: (name) => this.secrets.get(name),
      resolve: (name) => this.get(name),
    };
    const results = await Promise.allSettled(Array.from({ length: this.config.INFERENCE_INSTANCES }, () => loader(dir, options)));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    if (failed) {
      await Promise.all(started.map((c) => c.close()));
      throw failed.reason;
    }
    return started;
  }

  /** Takes the entry's instances out of service; they close once their streams finish. */
  private retire(entry: ModelEntry): void {
    entry.unhookMetrics?.();
    entry.unhookMetrics = undefined;
    for (const client of entry.instances) {
      const done = client.drainAndClose().catch((e: unknown) => this.logger.error({ model: entry.name, err: e }, 'closing a retired model failed'));
      this.retiring.add(done);
      void done.finally(() => this.retiring.delete(done));
    }
    entry.instances = [];
  }

  private serialized<T>(folder: string, task: () => Promise<T>): Promise<T> {
    const previous = this.busy.get(folder) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(task);
    const tracked = next.finally(() => {
      if (this.busy.get(folder) === tracked) this.busy.delete(folder);
    });
    this.busy.set(folder, tracked);
    return next;
  }

  private byName(name: string): ModelEntry | undefined {
    for (const e of this.entries.values()) if (e.name === name && e.state === 'ready') return e;
    for (const e of this.entries.values()) if (e.name === name || e.folder === name) return e;
    return undefined;
  }

  private schedulePoll(): void {
    this.pollTimer = setTimeout(() => {
      if (this.closed) return;
      void this.poll().finally(() => {
        if (!this.closed) this.schedulePoll();
      });
    }, this.config.MODELS_WATCH_INTERVAL_MS);
    this.pollTimer.unref();
  }

  private async poll(): Promise<void> {
    const changes = this.watcher?.observe(scanModelDirectory(this.root)) ?? [];
    await Promise.all(
      changes.map(async ({ folder, kind }) => {
        this.logger.info({ folder, change: kind }, 'model folder changed');
        if (kind !== 'removed') return this.load(folder);
        const entry = this.entries.get(folder);
        if (!entry) return;
        await this.serialized(folder, async () => {
          this.retire(entry);
          this.entries.delete(folder);
          this.logger.info({ model: entry.name, folder }, 'model removed');
        });
      }),
    );
  }

  private info(e: ModelEntry): inference.ModelInfo {
    const first = e.instances[0];
    return {
      name: e.name,
      version: first?.manifest.version ?? '',
      kind: first?.manifest.kind ?? '',
      status: e.state,
      error: e.error ?? '',
      contextLength: first?.manifest.contextLength ?? 0,
      folder: e.folder,
      instances: e.instances.length,
      executionProvider: first?.executionProvider.active ?? '',
      executionProviderFallback: first?.executionProvider.fallbackReason ?? '',
      breakers: breakerStates(e.instances),
    };
  }
}

const BREAKER_SEVERITY = ['closed', 'half-open', 'open'];

/** A router's breaker state per target; with several instances, the least healthy one's. */
function breakerStates(instances: readonly ServedModel[]): Record<string, string> {
  const states: Record<string, string> = {};
  for (const instance of instances) {
    if (!('breakerStates' in instance) || !instance.breakerStates) continue;
    for (const [target, state] of Object.entries(instance.breakerStates())) {
      if (BREAKER_SEVERITY.indexOf(state) > BREAKER_SEVERITY.indexOf(states[target] ?? 'closed')) states[target] = state;
      else states[target] ??= state;
    }
  }
  return states;
}
