import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { freePort } from './free-port';
import { TEST_REDIS_URL, deleteKeysWithPrefix } from './redis-cleanup';

export const REPO_ROOT = resolve(__dirname, '..', '..');
export const SERVICES = ['role-context', 'tool-plugin', 'inference', 'session'] as const;
export type ServiceName = (typeof SERVICES)[number];

export interface StackPorts {
  sessionHttp: number;
  roleContextHttp: number;
  roleContextGrpc: number;
  toolPluginHttp: number;
  toolPluginGrpc: number;
  inferenceHttp: number;
  inferenceGrpc: number;
}

export interface StackOptions {
  rolesDir?: string;
  modelsDir?: string;
  env?: Partial<Record<ServiceName, Record<string, string>>>;
  /** Start only these (default: all four); readiness waits on the session, else the last one. */
  services?: readonly ServiceName[];
  /** Extra node options per service (e.g. `--cpu-prof`, which NODE_OPTIONS does not allow). */
  execArgv?: Partial<Record<ServiceName, string[]>>;
}

/** Another process of a service started next to the stack's own (see addInstance). */
export interface ExtraInstance {
  service: ServiceName;
  pid: number;
  httpUrl: string;
  /** host:port of its gRPC server (empty for a session instance). */
  grpcAddress: string;
  output: string[];
  /** SIGTERM: graceful shutdown; resolves with the exit code. */
  terminate(): Promise<number | null>;
  /** SIGKILL: the process dies at once, as on a crash (nothing of it runs to the end). */
  kill(): Promise<number | null>;
}

/**
 * TROUPE_TEST_DISCOVERY=redis runs every stack with the service registry on (instances
 * announce themselves and clients balance over them) instead of static addresses.
 */
const DISCOVERY_ENV: Record<string, string> = process.env.TROUPE_TEST_DISCOVERY ? { DISCOVERY: process.env.TROUPE_TEST_DISCOVERY } : {};

/** The environment variables of a service's own HTTP and gRPC ports. */
function portVariables(service: ServiceName): { http: string; grpc?: string } {
  const upper = service.toUpperCase().replace('-', '_');
  return service === 'session' ? { http: 'SESSION_HTTP_PORT' } : { http: `${upper}_HTTP_PORT`, grpc: `${upper}_GRPC_PORT` };
}

interface Running {
  child: ChildProcess;
  output: string[];
  exit: Promise<number | null>;
}

export function mainOf(service: ServiceName): string {
  const main = join(REPO_ROOT, 'dist', 'apps', service, 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`${main} is missing: run \`npm run build\` first (npm test does)`);
  return main;
}

/**
 * The four services as separate Node processes built from dist/, on free ports, against the
 * real Redis under a key prefix of their own (removed by stop()).
 */
export class ServiceStack {
  readonly prefix = `troupe-test:${randomBytes(4).toString('hex')}:`;
  private readonly running = new Map<ServiceName, Running>();
  private readonly extraInstances: { child: ChildProcess; exit: Promise<number | null> }[] = [];

  private constructor(
    readonly ports: StackPorts,
    private readonly options: StackOptions,
  ) {}

  static async start(options: StackOptions = {}): Promise<ServiceStack> {
    const ports: StackPorts = {
      sessionHttp: await freePort(),
      roleContextHttp: await freePort(),
      roleContextGrpc: await freePort(),
      toolPluginHttp: await freePort(),
      toolPluginGrpc: await freePort(),
      inferenceHttp: await freePort(),
      inferenceGrpc: await freePort(),
    };
    const stack = new ServiceStack(ports, options);
    try {
      const services = options.services ?? SERVICES;
      for (const service of services) stack.spawn(service);
      await stack.waitReady(services.includes('session') ? 'session' : services[services.length - 1], 60_000);
    } catch (e) {
      await stack.stop();
      throw e;
    }
    return stack;
  }

  get sessionUrl(): string {
    return `http://127.0.0.1:${this.ports.sessionHttp}`;
  }

  httpUrl(service: ServiceName): string {
    const port = {
      session: this.ports.sessionHttp,
      'role-context': this.ports.roleContextHttp,
      'tool-plugin': this.ports.toolPluginHttp,
      inference: this.ports.inferenceHttp,
    }[service];
    return `http://127.0.0.1:${port}`;
  }

  grpcAddress(service: Exclude<ServiceName, 'session'>): string {
    const port = { 'role-context': this.ports.roleContextGrpc, 'tool-plugin': this.ports.toolPluginGrpc, inference: this.ports.inferenceGrpc }[service];
    return `127.0.0.1:${port}`;
  }

  env(service: ServiceName): Record<string, string> {
    const p = this.ports;
    return {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: this.prefix,
      LOG_LEVEL: 'info',
      BIND_HOST: '127.0.0.1',
      SHUTDOWN_TIMEOUT_MS: '5000',
      ROLES_DIR: this.options.rolesDir ?? join(REPO_ROOT, 'roles'),
      MODELS_DIR: this.options.modelsDir ?? join(REPO_ROOT, 'models'),
      SESSION_HTTP_PORT: String(p.sessionHttp),
      ROLE_CONTEXT_HTTP_PORT: String(p.roleContextHttp),
      ROLE_CONTEXT_GRPC_PORT: String(p.roleContextGrpc),
      TOOL_PLUGIN_HTTP_PORT: String(p.toolPluginHttp),
      TOOL_PLUGIN_GRPC_PORT: String(p.toolPluginGrpc),
      INFERENCE_HTTP_PORT: String(p.inferenceHttp),
      INFERENCE_GRPC_PORT: String(p.inferenceGrpc),
      ROLE_CONTEXT_ADDRESS: `127.0.0.1:${p.roleContextGrpc}`,
      TOOL_PLUGIN_ADDRESS: `127.0.0.1:${p.toolPluginGrpc}`,
      INFERENCE_ADDRESS: `127.0.0.1:${p.inferenceGrpc}`,
      // Paces decoding so a reply lasts long enough to be cancelled or cut by SIGTERM mid-stream
      // (unpaced, the test models write 200 tokens in well under 100 ms).
      INFERENCE_STEP_DELAY_MS: '2',
      ...DISCOVERY_ENV,
      ...(this.options.env?.[service] ?? {}),
    };
  }

  /**
   * Starts one more `session` process against the same Redis prefix and peers (another
   * instance behind a balancer); returns its URL and a way to stop it.
   */
  async addSessionInstance(env: Record<string, string> = {}): Promise<ExtraInstance & { url: string }> {
    const instance = await this.addInstance('session', env);
    return { ...instance, url: instance.httpUrl };
  }

  /**
   * Starts one more process of a service on free ports, against the same Redis prefix and
   * peers (with DISCOVERY=redis it joins the registry next to the stack's own instance), and
   * waits for its /health. stop() stops it too.
   */
  async addInstance(service: ServiceName, env: Record<string, string> = {}): Promise<ExtraInstance> {
    const vars = portVariables(service);
    const httpPort = await freePort();
    const grpcPort = vars.grpc ? await freePort() : undefined;
    const ports: Record<string, string> = { [vars.http]: String(httpPort), ...(vars.grpc ? { [vars.grpc]: String(grpcPort) } : {}) };
    const child = spawn(process.execPath, [...(this.options.execArgv?.[service] ?? []), mainOf(service)], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ONNXRUNTIME_NODE_INSTALL: 'skip', ...this.env(service), ...env, ...ports },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const collect = (chunk: Buffer) => {
      output.push(...chunk.toString().split('\n').filter(Boolean));
      if (output.length > 2000) output.splice(0, output.length - 2000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    this.extraInstances.push({ child, exit });
    const httpUrl = `http://127.0.0.1:${httpPort}`;
    const deadline = Date.now() + 60_000;
    for (;;) {
      const ok = await fetch(`${httpUrl}/health`).then((r) => r.status === 200, () => false);
      if (ok) break;
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`extra ${service} instance not ready:\n${output.join('\n')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const signal = async (name: NodeJS.Signals) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(name);
      return exit;
    };
    return {
      service,
      pid: child.pid!,
      httpUrl,
      grpcAddress: grpcPort ? `127.0.0.1:${grpcPort}` : '',
      output,
      terminate: () => signal('SIGTERM'),
      kill: () => signal('SIGKILL'),
    };
  }

  /** Everything the service printed so far (JSON log lines). */
  output(service: ServiceName): string[] {
    return this.running.get(service)?.output ?? [];
  }

  /** The OS process id of a running service (benchmarks read its RSS). */
  pid(service: ServiceName): number | undefined {
    return this.running.get(service)?.child.pid;
  }

  /** Kills a service at once (no graceful shutdown), as a crash would. */
  async crash(service: ServiceName): Promise<void> {
    const running = this.running.get(service);
    if (!running || running.child.exitCode !== null) return;
    running.child.kill('SIGKILL');
    await running.exit;
  }

  /** Sends a signal to one service's process (e.g. SIGSTOP / SIGCONT to freeze it mid-call). */
  signal(service: ServiceName, signal: NodeJS.Signals): void {
    this.running.get(service)?.child.kill(signal);
  }

  /** Sends SIGTERM and resolves with the exit code. */
  async terminate(service: ServiceName): Promise<number | null> {
    const running = this.running.get(service);
    if (!running) return null;
    if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGTERM');
    const code = await withTimeout(running.exit, 15_000, `${service} did not exit after SIGTERM`).catch(() => {
      running.child.kill('SIGKILL');
      return null;
    });
    return code;
  }

  async stop(): Promise<void> {
    for (const { child } of this.extraInstances) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await Promise.all(this.extraInstances.map(({ child, exit }) => withTimeout(exit, 15_000, 'an extra instance did not exit').catch(() => child.kill('SIGKILL'))));
    // The session first, so no new turns start while its peers go away.
    for (const service of [...SERVICES].reverse()) await this.terminate(service);
    await deleteKeysWithPrefix(this.prefix);
  }

  async waitReady(service: ServiceName, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    while (Date.now() < deadline) {
      const running = this.running.get(service);
      if (running && running.child.exitCode !== null) {
        throw new Error(`${service} exited with ${running.child.exitCode}:\n${running.output.slice(-20).join('\n')}`);
      }
      try {
        const res = await fetch(`${this.httpUrl(service)}/health`);
        last = await res.text();
        if (res.status === 200) return;
      } catch (e) {
        last = (e as Error).message;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
    const logs = SERVICES.map((s) => `--- ${s}\n${this.output(s).slice(-10).join('\n')}`).join('\n');
    throw new Error(`${service} not ready within ${timeoutMs} ms (last: ${last})\n${logs}`);
  }

  private spawn(service: ServiceName): void {
    const child = spawn(process.execPath, [...(this.options.execArgv?.[service] ?? []), mainOf(service)], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? '', ONNXRUNTIME_NODE_INSTALL: 'skip', ...this.env(service) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const output: string[] = [];
    const collect = (chunk: Buffer) => {
      output.push(...chunk.toString().split('\n').filter(Boolean));
      if (output.length > 2000) output.splice(0, output.length - 2000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    // 'close' (not 'exit') so everything the process printed has been read.
    const exit = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    this.running.set(service, { child, output, exit });
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([promise, new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(message)), ms)))]).finally(() =>
    clearTimeout(timer),
  );
}
