/**
 * worker_threads entry: owns the onnxruntime session (whose run() blocks its thread) and runs
 * the GenerationEngine; the main thread only sends requests/cancels and streams events out.
 */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import { CausalLmSession } from './causal-lm.session';
import { GenerationEngine } from './generation.engine';
import type { FromWorker, GenerationWorkerData, ToWorker } from './generation-worker.protocol';
import type { EngineStats, GenerationEvent } from './generation.types';

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('generation.worker must run in a worker thread');
  const post = (m: FromWorker) => port.postMessage(m);
  const data = workerData as GenerationWorkerData;

  // Events of one step are sent together, with the batch stats, when the step yields.
  let pending: { key: number; event: GenerationEvent }[] = [];
  // Stats ride along with the next step's events (a message of their own only when idle).
  let stats: EngineStats | undefined;
  let batchSizes: number[] = [];
  let flushQueued = false;
  const flush = () => {
    flushQueued = false;
    if (pending.length === 0 && !stats) return;
    post({ type: 'events', events: pending, stats, batchSizes });
    pending = [];
    stats = undefined;
    batchSizes = [];
  };
  const queueFlush = () => {
    if (!flushQueued) {
      flushQueued = true;
      queueMicrotask(flush);
    }
  };

  let exitRequested = false;
  let session: CausalLmSession;
  let engine: GenerationEngine;
  try {
    session = await CausalLmSession.load(data.modelDir, { intraOpThreads: data.intraOpThreads, executionProviders: data.executionProviders });
    const tokenizer = ByteLevelBpeTokenizer.fromFile(join(data.modelDir, session.manifest.files.tokenizer));
    engine = new GenerationEngine(
      session,
      tokenizer,
      (key, event) => {
        pending.push({ key, event });
        queueFlush();
      },
      data.limits,
      (s) => {
        stats = s;
        if (s.batchSize > 0) batchSizes.push(s.batchSize);
        if (s.running === 0 && s.waiting === 0) queueFlush();
        // Between steps no run is in flight: the one safe moment to die.
        if (exitRequested) process.exit(1);
      },
    );
  } catch (err) {
    post({ type: 'init-error', message: err instanceof Error ? err.message : String(err) });
    port.close();
    return;
  }

  const handlers: { [T in ToWorker['type']]: (msg: Extract<ToWorker, { type: T }>) => void } = {
    generate: (msg) => engine.submit(msg.key, msg.request),
    cancel: (msg) => engine.cancel(msg.key),
    crash: () => {
      exitRequested = true;
      if (engine.activeCount === 0) process.exit(1);
    },
    shutdown: () =>
      void engine
        .shutdown()
        .then(() => session.release())
        .finally(() => {
          flush();
          port.close();
        }),
  };
  port.on('message', (msg: ToWorker) => (handlers[msg.type] as (m: ToWorker) => void)(msg));
  post({ type: 'ready', executionProvider: session.executionProvider });
}

void main();
