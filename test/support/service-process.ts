import { ROLE_CONTEXT_CONTRACT } from '@troupe/contracts';
import { GrpcClient } from '@troupe/grpc';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { freePort } from './free-port';
import { TEST_REDIS_URL, deleteKeysWithPrefix } from './redis-cleanup';
import { REPO_ROOT, ServiceName, mainOf } from './service-stack';

/**
 * One service as its own Node process (built from dist/), for tests that need a single
 * service, or two instances of one, rather than the whole stack.
 */
export class ServiceProcess {
  readonly output: string[] = [];
  private readonly exit: Promise<number | null>;

  private constructor(
    readonly service: ServiceName,
    readonly httpPort: number,
    readonly grpcPort: number,
    private readonly child: ChildProcess,
  ) {
    const collect = (chunk: Buffer) => {
      this.output.push(...chunk.toString().split('\n').filter(Boolean));
      if (this.output.length > 2000) this.output.splice(0, this.output.length - 2000);
    };
    child.stdout!.on('data', collect);
    child.stderr!.on('data', collect);
    this.exit = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  }

  /** Starts the service with its HTTP and gRPC ports chosen here, and waits for /health. */
  static async start(service: Exclude<ServiceName, 'session'>, env: Record<string, string>): Promise<ServiceProcess> {
    const httpPort = await freePort();
    const grpcPort = await freePort();
    const upper = service.toUpperCase().replace('-', '_');
    const child = spawn(process.execPath, [mainOf(service)], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '',
        ONNXRUNTIME_NODE_INSTALL: 'skip',
        REDIS_URL: TEST_REDIS_URL,
        LOG_LEVEL: 'info',
        BIND_HOST: '127.0.0.1',
        SHUTDOWN_TIMEOUT_MS: '5000',
        ROLES_DIR: join(REPO_ROOT, 'roles'),
        MODELS_DIR: join(REPO_ROOT, 'models'),
        [`${upper}_HTTP_PORT`]: String(httpPort),
        [`${upper}_GRPC_PORT`]: String(grpcPort),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proc = new ServiceProcess(service, httpPort, grpcPort, child);
    await proc.waitReady(60_000).catch(async (e) => {
      await proc.stop();
      throw e;
    });
    return proc;
  }

  get pid(): number {
    return this.child.pid!;
  }

  get grpcAddress(): string {
    return `127.0.0.1:${this.grpcPort}`;
  }

  get httpUrl(): string {
    return `http://127.0.0.1:${this.httpPort}`;
  }

  roleContextClient(deadlineMs = 10_000): GrpcClient {
    return new GrpcClient(ROLE_CONTEXT_CONTRACT, this.grpcAddress, deadlineMs);
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await this.exit;
    clearTimeout(timer);
  }

  private async waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`${this.service} exited with ${this.child.exitCode}:\n${this.output.slice(-20).join('\n')}`);
      try {
        if ((await fetch(`${this.httpUrl}/health`)).status === 200) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 150));
    }
    throw new Error(`${this.service} not ready within ${timeoutMs} ms:\n${this.output.slice(-20).join('\n')}`);
  }
}

/** A Redis key prefix of a test's own, and its cleanup. */
export function testPrefix(): { prefix: string; cleanup(): Promise<number> } {
  const prefix = `troupe-test:${randomBytes(4).toString('hex')}:`;
  return { prefix, cleanup: () => deleteKeysWithPrefix(prefix) };
}
