import { ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { ToolCallError } from '../tools/tool';
import type { HostMessage, LoadMessage } from './host-protocol';

export interface PluginProcessOptions {
  load: LoadMessage;
  /** V8 heap of the host process itself (the isolate has its own limit). */
  hostHeapMb: number;
  /** Restarts allowed within a minute before the plugin is marked failed. */
  maxRestartsPerMinute: number;
  onLog(tool: string, message: string): void;
  /** Called on every unexpected exit (after pending calls were failed). */
  onCrash(reason: string, willRestart: boolean): void;
  onRestarted(): void;
}

interface Pending {
  resolve(json: string): void;
  reject(e: ToolCallError): void;
  timer: NodeJS.Timeout;
  timeoutMs: number;
}

/** The host entry: compiled JS in dist, TypeScript (through tsx) when run from source in tests. */
function hostCommand(): string[] {
  const js = join(__dirname, 'plugin-host.js');
  if (existsSync(js)) return [js];
  return ['--require', require.resolve('tsx/cjs'), join(__dirname, 'plugin-host.ts')];
}

/** Resource limits the kernel enforces on the host: no core dumps, no file writes, few descriptors. */
function withOsLimits(command: string, args: string[]): [string, string[]] {
  if (process.platform !== 'linux' || !existsSync('/usr/bin/prlimit')) return [command, args];
  return ['/usr/bin/prlimit', ['--core=0', '--fsize=0', '--nofile=64', '--', command, ...args]];
}

/**
 * One plugin host child process, seen from the service: starts it, loads the plugin, relays
 * calls with a wall-clock backstop (kills the child when even the isolate's own timeout did
 * not answer), and restarts it after a crash with the calls in flight failed, not lost silently.
 */
export class PluginProcess {
  private child?: ChildProcess;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private restarts: number[] = [];
  private stopped = false;
  private ready?: Promise<unknown[]>;
  /** When the host last said anything: a busy host still answers, a stuck one does not. */
  private lastHeardAt = Date.now();

  constructor(private readonly options: PluginProcessOptions) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Spawns the host and loads the plugin; resolves with the tool declarations it exports. */
  start(): Promise<unknown[]> {
    this.ready = new Promise<unknown[]>((resolve, reject) => {
      const [command, args] = withOsLimits(process.execPath, [
        '--no-node-snapshot',
        `--max-old-space-size=${this.options.hostHeapMb}`,
        ...hostCommand(),
      ]);
      // An empty environment: the host sees no secret of the service, only what load.env grants.
      const child = spawn(command, args, { env: {}, stdio: ['ignore', 'ignore', 'pipe', 'ipc'], serialization: 'json' });
      this.child = child;
      let stderr = '';
      child.stderr!.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-2000)));
      let loaded = false;
      child.on('message', (m: HostMessage) => {
        this.lastHeardAt = Date.now();
        if (m.type === 'loaded') {
          loaded = true;
          resolve(m.tools);
        } else if (m.type === 'load-failed') {
          loaded = true;
          reject(new Error(m.error));
          this.kill(child);
        } else if (m.type === 'log') this.options.onLog(m.tool, m.message);
        else if (m.type === 'result') this.settle(m);
      });
      child.on('error', (e) => reject(e));
      child.on('exit', (code, signal) => {
        const reason = signal ? `killed by ${signal}` : `exited with code ${code}`;
        if (!loaded) reject(new Error(`plugin host ${reason} while loading${stderr ? `: ${stderr.trim()}` : ''}`));
        if (this.child === child) this.onExit(reason);
      });
      child.send(this.options.load);
    });
    return this.ready;
  }

  invoke(tool: string, argsJson: string, timeoutMs: number, context: { roleId: string; sessionId: string }): Promise<string> {
    const child = this.child;
    if (this.stopped || !child || child.exitCode !== null || !child.connected) {
      return Promise.reject(new ToolCallError('UNAVAILABLE', `plugin ${this.options.load.plugin} is not running`));
    }
    const id = this.nextId++;
    return new Promise<string>((resolve, reject) => {
      // The isolate stops a runaway call itself; the host is killed only when it went silent too.
      const grace = timeoutMs + 2000;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        // Silent for longer than any call it holds may take: stuck, not busy.
        const longest = Math.max(timeoutMs, ...[...this.pending.values()].map((p) => p.timeoutMs));
        const stuck = Date.now() - this.lastHeardAt > longest + 2000;
        reject(new ToolCallError('TIMEOUT', `tool ${tool} did not finish within ${timeoutMs} ms${stuck ? '; its plugin host was restarted' : ''}`));
        if (stuck) this.kill(child);
      }, grace);
      this.pending.set(id, { resolve, reject, timer, timeoutMs });
      child.send({ type: 'invoke', id, tool, argsJson, timeoutMs, context });
    });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const child = this.child;
    this.failPending('UNAVAILABLE', 'plugin stopped');
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
  }

  private settle(m: Extract<HostMessage, { type: 'result' }>): void {
    const call = this.pending.get(m.id);
    if (!call) return;
    this.pending.delete(m.id);
    clearTimeout(call.timer);
    if (m.ok) call.resolve(m.resultJson);
    else call.reject(new ToolCallError(m.code, m.error));
  }

  private onExit(reason: string): void {
    this.failPending('SANDBOX_CRASHED', `plugin host ${reason} during the call`);
    if (this.stopped) return;
    const now = Date.now();
    this.restarts = this.restarts.filter((t) => now - t < 60_000);
    const willRestart = this.restarts.length < this.options.maxRestartsPerMinute;
    this.options.onCrash(reason, willRestart);
    if (!willRestart) {
      this.stopped = true;
      return;
    }
    this.restarts.push(now);
    this.child = undefined;
    this.start().then(
      () => this.options.onRestarted(),
      (e) => this.options.onCrash(`restart failed: ${(e as Error).message}`, false),
    );
  }

  private failPending(code: 'SANDBOX_CRASHED' | 'UNAVAILABLE', message: string): void {
    for (const [id, call] of this.pending) {
      clearTimeout(call.timer);
      call.reject(new ToolCallError(code, message));
      this.pending.delete(id);
    }
  }

  private kill(child: ChildProcess): void {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
