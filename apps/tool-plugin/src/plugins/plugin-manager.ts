import { SDK_RUNTIME_SOURCE } from '@troupe/plugin-sdk';
import { FSWatcher, existsSync, readdirSync, watch } from 'node:fs';
import { join } from 'node:path';
import { PluginProcess } from '../sandbox/plugin-process';
import { Tool } from '../tools/tool';
import { checkDeclarations, folderSignature, readPluginFolder } from './plugin-folder';

/** Where plugin tools go: the service's tool registry. */
export interface ToolSink {
  register(tool: Tool<any, any>): void;
  unregister(name: string): void;
  get(name: string): Tool | undefined;
}

export interface PluginManagerOptions {
  dir: string;
  scanIntervalMs: number;
  memoryMb: number;
  defaultTimeoutMs: number;
  hostHeapMb: number;
  maxResultBytes: number;
  /** Values a manifest's permissions.env can grant, by name. */
  secrets: Record<string, string>;
  maxRestartsPerMinute: number;
}

export interface PluginLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

export interface PluginStatus {
  folder: string;
  state: 'loading' | 'loaded' | 'failed' | 'restarting';
  name?: string;
  version?: string;
  tools: string[];
  error?: string;
  pid?: number;
}

interface LoadedPlugin {
  signature: string;
  process?: PluginProcess;
  status: PluginStatus;
}

/**
 * Keeps the tools of the plugin folders in the registry: a folder added, changed or removed
 * takes effect on the next scan (fs.watch triggers one early; a periodic scan catches what
 * watch misses). A plugin that fails to load is reported in its status and the log; the
 * others keep serving.
 */
export class PluginManager {
  private readonly plugins = new Map<string, LoadedPlugin>();
  private scanning: Promise<void> = Promise.resolve();
  private timer?: NodeJS.Timeout;
  private watcher?: FSWatcher;
  private debounce?: NodeJS.Timeout;

  constructor(
    private readonly options: PluginManagerOptions,
    private readonly sink: ToolSink,
    private readonly log: PluginLog,
  ) {}

  async start(): Promise<void> {
    await this.scan();
    this.timer = setInterval(() => void this.scan(), this.options.scanIntervalMs);
    this.timer.unref();
    try {
      this.watcher = watch(this.options.dir, { recursive: true }, () => {
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.scan(), 100);
      });
      this.watcher.on('error', () => this.watcher?.close());
    } catch {
      // No folder yet or no recursive watch: the periodic scan still picks changes up.
    }
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.debounce);
    this.watcher?.close();
    await this.scanning;
    await Promise.all([...this.plugins.keys()].map((folder) => this.unload(folder)));
  }

  statuses(): PluginStatus[] {
    return [...this.plugins.values()].map((p) => ({ ...p.status, pid: p.process?.pid })).sort((a, b) => a.folder.localeCompare(b.folder));
  }

  /** One pass over the folder; passes never overlap. */
  scan(): Promise<void> {
    this.scanning = this.scanning.then(() => this.scanOnce()).catch((e) => this.log.warn({ err: e }, 'plugin scan failed'));
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    const dir = this.options.dir;
    const folders = existsSync(dir)
      ? readdirSync(dir, { withFileTypes: true })
          .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
          .map((e) => e.name)
      : [];
    for (const folder of [...this.plugins.keys()]) {
      if (!folders.includes(folder)) {
        await this.unload(folder);
        this.plugins.delete(folder);
        this.log.info({ plugin: folder }, 'plugin removed');
      }
    }
    for (const folder of folders) {
      const signature = folderSignature(join(dir, folder));
      if (this.plugins.get(folder)?.signature === signature) continue;
      await this.unload(folder);
      await this.load(folder, signature);
    }
  }

  private async load(folder: string, signature: string): Promise<void> {
    const entry: LoadedPlugin = { signature, status: { folder, state: 'loading', tools: [] } };
    this.plugins.set(folder, entry);
    try {
      const source = readPluginFolder(join(this.options.dir, folder));
      const { manifest } = source;
      entry.status.name = manifest.name;
      entry.status.version = manifest.version;
      const env: Record<string, string> = {};
      for (const name of manifest.permissions?.env ?? []) {
        if (name in this.options.secrets) env[name] = this.options.secrets[name];
        else this.log.warn({ plugin: manifest.name, variable: name }, 'plugin is granted a variable that PLUGIN_SECRETS does not set');
      }
      const memoryMb = manifest.limits?.memoryMb ?? this.options.memoryMb;
      const process = new PluginProcess({
        load: {
          type: 'load',
          plugin: manifest.name,
          files: source.files,
          main: source.main,
          memoryMb,
          env,
          maxResultBytes: this.options.maxResultBytes,
          sdkSource: SDK_RUNTIME_SOURCE,
        },
        hostHeapMb: this.options.hostHeapMb,
        maxRestartsPerMinute: this.options.maxRestartsPerMinute,
        onLog: (tool, message) => this.log.info({ plugin: manifest.name, tool }, message),
        onCrash: (reason, willRestart) => {
          entry.status.state = willRestart ? 'restarting' : 'failed';
          entry.status.error = `plugin host ${reason}`;
          this.log.warn({ plugin: manifest.name, reason, willRestart }, 'plugin host crashed');
        },
        onRestarted: () => {
          entry.status.state = 'loaded';
          this.log.info({ plugin: manifest.name }, 'plugin host restarted');
        },
      });
      entry.process = process;
      const declarations = checkDeclarations(await process.start());
      const taken = declarations.find((d) => this.sink.get(d.name));
      if (taken) throw new Error(`tool "${taken.name}" is already provided by ${this.sink.get(taken.name)!.source ?? 'another source'}`);
      const defaultTimeout = manifest.limits?.timeoutMs ?? this.options.defaultTimeoutMs;
      for (const d of declarations) {
        const timeoutMs = d.timeoutMs ?? defaultTimeout;
        this.register(d.name, {
          name: d.name,
          description: d.description,
          parameters: d.parameters,
          result: d.result,
          timeoutMs,
          requiresApproval: d.requiresApproval,
          hints: d.hints,
          source: `plugin:${manifest.name}`,
          run: async (args, ctx) => JSON.parse(await process.invoke(d.name, JSON.stringify(args), timeoutMs, { roleId: ctx.roleId, sessionId: ctx.sessionId })),
        });
        entry.status.tools.push(d.name);
      }
      entry.status.state = 'loaded';
      this.log.info({ plugin: manifest.name, version: manifest.version, tools: entry.status.tools }, 'plugin loaded');
    } catch (e) {
      for (const name of entry.status.tools) this.sink.unregister(name);
      entry.status.tools = [];
      entry.status.state = 'failed';
      entry.status.error = (e as Error).message;
      await entry.process?.stop();
      entry.process = undefined;
      this.log.warn({ plugin: folder, error: entry.status.error }, 'plugin failed to load');
    }
  }

  /** Names the tool when its schema does not compile. */
  private register(name: string, tool: Tool<any, any>): void {
    try {
      this.sink.register(tool);
    } catch (e) {
      throw new Error(`tool "${name}": ${(e as Error).message}`);
    }
  }

  private async unload(folder: string): Promise<void> {
    const entry = this.plugins.get(folder);
    if (!entry) return;
    for (const name of entry.status.tools) this.sink.unregister(name);
    await entry.process?.stop();
  }
}
