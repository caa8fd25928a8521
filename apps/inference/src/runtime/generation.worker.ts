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
import type { EngineStats, GenerateRequest } from './generation.types';
import { TokenDeltaBuffer } from './token-deltas';

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('generation.worker must run in a worker thread');
  const post = (m: FromWorker) => port.postMessage(m);
  const data = workerData as GenerationWorkerData;

  // Decoded tokens are sent in deltas: tokens wait up to streamIntervalMs to go out together
  // (a first token never waits), all requests' in one message.
  const buffer = new TokenDeltaBuffer(data.streamIntervalMs ?? 0);
  // Stats ride along with the next message (a message of their own only when idle).
  let stats: EngineStats | undefined;
  let batchSizes: number[] = [];
  let flushQueued = false;
  let timer: NodeJS.Timeout | undefined;
  const postEvents = (taken: ReturnType<TokenDeltaBuffer['take']>) => {
    post({ type: 'events', ...taken, stats, batchSizes });
    stats = undefined;
    batchSizes = [];
  };
  const flush = (force = false) => {
    flushQueued = false;
    const now = Date.now();
    if (!force && !buffer.hasDue(now)) {
      // Ended requests go now (with their last tokens); the others' tokens keep waiting.
      if (buffer.hasFinished) postEvents(buffer.takeFinished());
      const next = buffer.nextDueAt;
      // Engine steps call flush often; the timer only covers a stall between steps.
      if (next !== undefined && !timer) timer = setTimeout(() => ((timer = undefined), flush()), Math.max(0, next - now));
      return;
    }
    if (buffer.isEmpty && !stats) return;
    postEvents(buffer.take());
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
        buffer.push(key, event, Date.now());
        queueFlush();
      },
      data.limits,
      (s) => {
        stats = s;
        if (s.batchSize > 0) batchSizes.push(s.batchSize);
        // Idle: nothing more will come soon, so nothing waits.
        if (s.running === 0 && s.waiting === 0) flush(true);
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
    batch: (msg) => {
      // Consecutive generate requests go to the engine together; anything else keeps its place.
      let burst: { key: number; request: GenerateRequest }[] = [];
      const flushBurst = () => {
        if (burst.length) engine.submitAll(burst);
        burst = [];
      };
      for (const m of msg.messages) {
        if (m.type === 'generate') burst.push(m);
        else {
          flushBurst();
          dispatch(m);
        }
      }
      flushBurst();
    },
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
          clearTimeout(timer);
          flush(true);
          port.close();
        }),
  };
  function dispatch(msg: ToWorker): void {
    (handlers[msg.type] as (m: ToWorker) => void)(msg);
  }
  port.on('message', dispatch);
  post({ type: 'ready', executionProvider: session.executionProvider });
}

void main();
