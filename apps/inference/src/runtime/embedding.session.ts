import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { ExecutionProviderStatus, createOrtSession } from './causal-lm.session';
import { EmbeddingManifest, loadEmbeddingManifest } from './embedding-manifest';

/** One onnxruntime session of an `embedding` model; run() blocks, so it lives in a worker thread. */
export class EmbeddingSession {
  private constructor(
    readonly manifest: EmbeddingManifest,
    private readonly session: ort.InferenceSession,
    readonly executionProvider: ExecutionProviderStatus,
  ) {}

  static async load(modelDir: string, opts: { intraOpThreads?: number; executionProviders?: string[] } = {}): Promise<EmbeddingSession> {
    const manifest = loadEmbeddingManifest(modelDir);
    const modelPath = join(modelDir, manifest.files.model);
    if (!existsSync(modelPath)) throw new Error(`model file ${modelPath} (manifest files.model) does not exist`);
    const { session, status } = await createOrtSession(
      modelPath,
      { intraOpNumThreads: opts.intraOpThreads ?? manifest.threads, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' },
      opts.executionProviders ?? [],
    );
    const missing = manifest.inputNames.filter((n) => !session.inputNames.includes(n));
    if (missing.length || !session.outputNames.includes(manifest.outputName)) {
      await session.release();
      throw new Error(`${modelPath}: graph does not match the manifest (inputs ${session.inputNames.join(',')}; outputs ${session.outputNames.join(',')})`);
    }
    return new EmbeddingSession(manifest, session, status);
  }

  /** Vectors for token sequences, padded (right) to the longest into one run; one row per input, flat. */
  async embed(batch: readonly (readonly number[])[]): Promise<Float32Array> {
    const b = batch.length;
    const width = Math.max(1, ...batch.map((t) => t.length));
    const ids = new BigInt64Array(b * width);
    const mask = new BigInt64Array(b * width);
    batch.forEach((tokens, i) => {
      for (let j = 0; j < tokens.length; j++) {
        ids[i * width + j] = BigInt(tokens[j]);
        mask[i * width + j] = 1n;
      }
    });
    const out = await this.session.run({
      input_ids: new ort.Tensor('int64', ids, [b, width]),
      attention_mask: new ort.Tensor('int64', mask, [b, width]),
    });
    const t = out[this.manifest.outputName];
    if (t.dims.length !== 2 || t.dims[1] !== this.manifest.dimensions) {
      throw new Error(`output ${this.manifest.outputName} has shape [${t.dims.join(',')}], expected [batch, ${this.manifest.dimensions}]`);
    }
    return (t.data as Float32Array).slice();
  }

  release(): Promise<void> {
    return this.session.release();
  }
}
