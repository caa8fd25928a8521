import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ExecutionProviderStatus } from './causal-lm.session';

/** Startup messages every model worker sends. */
type StartupMessage = { type: 'ready'; executionProvider: ExecutionProviderStatus } | { type: 'init-error'; message: string } | { type: string };

/** Spawns a model worker and waits until it has loaded the model (terminating it if it fails). */
export async function startModelWorker(
  entry: string,
  workerData: unknown,
  modelDir: string,
  timeoutMs = 120_000,
): Promise<{ worker: Worker; executionProvider: ExecutionProviderStatus }> {
  const worker = spawnWorker(entry, workerData);
  try {
    return { worker, executionProvider: await waitReady(worker, timeoutMs) };
  } catch (err) {
    await worker.terminate();
    throw new Error(`model ${modelDir}: ${(err as Error).message}`);
  }
}

/** Resolves with the worker's execution provider once it says 'ready'; rejects on init-error, exit or timeout. */
export function waitReady(worker: Worker, timeoutMs: number): Promise<ExecutionProviderStatus> {
  return new Promise((resolve, reject) => {
    let ep: ExecutionProviderStatus = { requested: [], active: 'cpu' };
    const timer = setTimeout(() => done(new Error(`worker did not load the model within ${timeoutMs} ms`)), timeoutMs);
    const onMessage = (m: StartupMessage) => {
      if (m.type === 'ready' && 'executionProvider' in m) {
        ep = m.executionProvider;
        done();
      } else if (m.type === 'init-error' && 'message' in m) done(new Error(m.message));
    };
    const onError = (err: Error) => done(new Error(`worker failed to start: ${err.message}`));
    const onExit = (code: number) => done(new Error(`worker exited during startup (exit code ${code})`));
    function done(err?: Error) {
      clearTimeout(timer);
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
      if (err) reject(err);
      else resolve(ep);
    }
    worker.on('message', onMessage).on('error', onError).on('exit', onExit);
  });
}

/**
 * Starts `<entry>.js` from this folder. Compiled (dist): run the .js directly. From sources
 * (ts-jest, tsx): only the .ts exists, so boot the worker through an eval'd CommonJS stub that
 * registers tsx's require hook first. (Passing `--require tsx/cjs` in execArgv is not enough: a
 * parent started by tsx carries tsx's ESM loader, which rejects a .ts worker entry.)
 * TSX_TSCONFIG_PATH points tsx at the repo tsconfig so `@troupe/*` aliases resolve from any cwd.
 */
export function spawnWorker(entry: string, workerData: unknown): Worker {
  const js = join(__dirname, `${entry}.js`);
  if (existsSync(js)) return new Worker(js, { workerData });
  const ts = join(__dirname, `${entry}.ts`);
  if (!existsSync(ts)) throw new Error(`worker entry ${entry} not found in ${__dirname}`);
  const tsxRegister = require.resolve('tsx/cjs');
  const tsconfig = findUp(__dirname, 'tsconfig.json');
  const env = { ...process.env, ...(tsconfig ? { TSX_TSCONFIG_PATH: tsconfig } : {}) };
  const boot = `require(${JSON.stringify(tsxRegister)});\nrequire(${JSON.stringify(ts)});`;
  return new Worker(boot, { eval: true, workerData, env });
}

function findUp(from: string, name: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, name);
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}
