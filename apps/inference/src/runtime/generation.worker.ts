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

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('generation.worker must run in a worker thread');
  const post = (m: FromWorker) => port.postMessage(m);
  const data = workerData as GenerationWorkerData;

  let session: CausalLmSession;
  let engine: GenerationEngine;
  try {
    session = await CausalLmSession.load(data.modelDir, { intraOpThreads: data.intraOpThreads });
    const tokenizer = ByteLevelBpeTokenizer.fromFile(join(data.modelDir, session.manifest.files.tokenizer));
    engine = new GenerationEngine(session, tokenizer, (key, event) => post({ type: 'event', key, event }), data.maxActiveSequences);
  } catch (err) {
    post({ type: 'init-error', message: err instanceof Error ? err.message : String(err) });
    port.close();
    return;
  }

  port.on('message', (msg: ToWorker) => {
    switch (msg.type) {
      case 'generate':
        engine.submit(msg.key, msg.request);
        break;
      case 'cancel':
        engine.cancel(msg.key);
        break;
      case 'shutdown':
        void engine
          .shutdown()
          .then(() => session.release())
          .finally(() => port.close());
        break;
    }
  });
  post({ type: 'ready' });
}

void main();
