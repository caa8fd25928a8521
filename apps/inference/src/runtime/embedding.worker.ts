/** worker_threads entry for an `embedding` model: runs the batches the main thread's batcher forms. */
import { parentPort, workerData } from 'node:worker_threads';
import { EmbeddingSession } from './embedding.session';

export interface EmbeddingWorkerData {
  modelDir: string;
  intraOpThreads?: number;
  executionProviders?: string[];
}

export type ToEmbeddingWorker = { type: 'embed'; id: number; batch: number[][] } | { type: 'shutdown' };
export type FromEmbeddingWorker =
  | { type: 'embedded'; id: number; vectors: Float32Array }
  | { type: 'embed-error'; id: number; message: string };

async function main(): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('embedding.worker must run in a worker thread');
  const data = workerData as EmbeddingWorkerData;
  let session: EmbeddingSession;
  try {
    session = await EmbeddingSession.load(data.modelDir, { intraOpThreads: data.intraOpThreads, executionProviders: data.executionProviders });
  } catch (err) {
    port.postMessage({ type: 'init-error', message: err instanceof Error ? err.message : String(err) });
    port.close();
    return;
  }
  port.on('message', (msg: ToEmbeddingWorker) => {
    if (msg.type === 'shutdown') {
      void session.release().finally(() => port.close());
      return;
    }
    session.embed(msg.batch).then(
      (vectors) => port.postMessage({ type: 'embedded', id: msg.id, vectors } satisfies FromEmbeddingWorker, [vectors.buffer as ArrayBuffer]),
      (err: Error) => port.postMessage({ type: 'embed-error', id: msg.id, message: err.message } satisfies FromEmbeddingWorker),
    );
  });
  port.postMessage({ type: 'ready', executionProvider: session.executionProvider });
}

void main();
