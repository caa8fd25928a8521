import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HealthService } from '@troupe/health';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { resolve } from 'node:path';
import { ToolPluginConfig } from '../tool-plugin.config';
import { ToolRegistry } from '../tools/tool-registry';
import { PluginManager, PluginStatus } from './plugin-manager';

/** Runs the PluginManager for the app's lifetime. */
@Injectable()
export class PluginsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly manager: PluginManager;
  private started = false;

  constructor(config: ToolPluginConfig, registry: ToolRegistry, health: HealthService, @Inject(APP_LOGGER) logger: Logger) {
    // Ready once the first scan is done, so a caller never sees a half-loaded tool list.
    health.register('plugins', async () => {
      if (!this.started) throw new Error('first plugin scan not finished');
    });
    this.manager = new PluginManager(
      {
        dir: resolve(config.PLUGINS_DIR),
        scanIntervalMs: config.PLUGIN_SCAN_INTERVAL_MS,
        memoryMb: config.PLUGIN_MEMORY_MB,
        defaultTimeoutMs: config.TOOL_DEFAULT_TIMEOUT_MS,
        hostHeapMb: config.PLUGIN_HOST_HEAP_MB,
        maxResultBytes: config.TOOL_MAX_RESULT_BYTES,
        secrets: parseSecrets(config.PLUGIN_SECRETS),
        maxRestartsPerMinute: config.PLUGIN_MAX_RESTARTS_PER_MINUTE,
      },
      registry,
      logger,
    );
  }

  /** After the built-ins are registered, so a plugin cannot shadow one. */
  async onApplicationBootstrap(): Promise<void> {
    await this.manager.start();
    this.started = true;
  }

  onApplicationShutdown(): Promise<void> {
    return this.manager.stop();
  }

  statuses(): PluginStatus[] {
    return this.manager.statuses();
  }
}

function parseSecrets(json: string): Record<string, string> {
  const value = JSON.parse(json) as unknown;
  if (!value || typeof value !== 'object' || Array.isArray(value) || Object.values(value).some((v) => typeof v !== 'string')) {
    throw new Error('PLUGIN_SECRETS: must be a JSON object of string values');
  }
  return value as Record<string, string>;
}
