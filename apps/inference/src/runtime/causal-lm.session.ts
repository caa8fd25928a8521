import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { CausalLmManifest, loadCausalLmManifest } from './causal-lm-manifest';

export interface CausalLmSessionOptions {
  /** onnxruntime intra-op threads; defaults to manifest.threads. */
  intraOpThreads?: number;
}

/**
 * KV cache of one sequence: past_key_values tensors by input name plus the tokens they cover.
 * Plain data on purpose, so a batcher can later stack several caches into one run.
 */
export class KvCache {
  constructor(
    public past: Record<string, ort.Tensor>,
    public length = 0,
  ) {}

  dispose(): void {
    for (const t of Object.values(this.past)) t.dispose();
    this.past = {};
  }
}

/** A sequence being generated: its cache plus convenience methods bound to the session. */
export class CausalLmSequence {
  constructor(
    private readonly session: CausalLmSession,
    readonly cache: KvCache,
  ) {}

  /** Tokens processed so far (prompt + decoded). */
  get length(): number {
    return this.cache.length;
  }

  /** Runs the prompt (or any chunk) through the model; returns the last position's logits. */
  prefill(tokenIds: readonly number[]): Promise<Float32Array> {
    return this.session.forward(this.cache, tokenIds);
  }

  /** Appends one token; returns the logits for the next position. */
  decodeStep(tokenId: number): Promise<Float32Array> {
    return this.session.forward(this.cache, [tokenId]);
  }

  dispose(): void {
    this.cache.dispose();
  }
}

/** Optimum "merged" decoders have this extra boolean input selecting the with-past branch. */
const USE_CACHE_BRANCH = 'use_cache_branch';

/**
 * One onnxruntime session for a causal-LM model directory (standard decoder-only layout).
 * run() blocks the calling thread, so this is meant to live inside a worker thread.
 */
export class CausalLmSession {
  private readonly pastNames: string[];
  private readonly hasPositionIds: boolean;
  private readonly hasUseCacheBranch: boolean;

  private constructor(
    readonly modelDir: string,
    readonly manifest: CausalLmManifest,
    private readonly session: ort.InferenceSession,
  ) {
    this.pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
    this.hasPositionIds = session.inputNames.includes('position_ids');
    this.hasUseCacheBranch = session.inputNames.includes(USE_CACHE_BRANCH);
  }

  static async load(modelDir: string, opts: CausalLmSessionOptions = {}): Promise<CausalLmSession> {
    const manifest = loadCausalLmManifest(modelDir);
    const modelPath = join(modelDir, manifest.files.model);
    if (!existsSync(modelPath)) throw new Error(`model file ${modelPath} (manifest files.model) does not exist`);
    let session: ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(modelPath, {
        intraOpNumThreads: opts.intraOpThreads ?? manifest.threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new Error(`onnxruntime cannot load ${modelPath}: ${(err as Error).message}`);
    }
    try {
      checkIo(manifest, session);
    } catch (err) {
      await session.release();
      throw new Error(`${modelPath}: ${(err as Error).message}`);
    }
    return new CausalLmSession(modelDir, manifest, session);
  }

  createSequence(): CausalLmSequence {
    const { numKvHeads, headDim } = this.manifest;
    const past: Record<string, ort.Tensor> = {};
    for (const name of this.pastNames) past[name] = new ort.Tensor('float32', new Float32Array(0), [1, numKvHeads, 0, headDim]);
    return new CausalLmSequence(this, new KvCache(past, 0));
  }

  /** Runs `tokenIds` after what `cache` holds, updates the cache, returns last-position logits. */
  async forward(cache: KvCache, tokenIds: readonly number[]): Promise<Float32Array> {
    const n = tokenIds.length;
    if (n === 0) throw new Error('forward needs at least one token');
    const total = cache.length + n;
    if (total > this.manifest.contextLength) {
      throw new Error(`context length exceeded: ${cache.length} cached + ${n} new > ${this.manifest.contextLength}`);
    }
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(tokenIds, (t) => BigInt(t)), [1, n]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      ...cache.past,
    };
    if (this.hasPositionIds) {
      feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(cache.length + i)), [1, n]);
    }
    if (this.hasUseCacheBranch) feeds[USE_CACHE_BRANCH] = new ort.Tensor('bool', [cache.length > 0], [1]);

    const out = await this.session.run(feeds);
    const next: Record<string, ort.Tensor> = {};
    for (const name of this.pastNames) next[name] = out[name.replace('past_key_values.', 'present.')];
    const logits = out.logits;
    // Free what we do not keep (the old cache and the full logits buffer).
    for (const t of Object.values(cache.past)) t.dispose();
    cache.past = next;
    cache.length = total;
    const vocab = logits.dims[2];
    const last = (logits.data as Float32Array).slice((n - 1) * vocab, n * vocab);
    logits.dispose();
    return last;
  }

  async release(): Promise<void> {
    await this.session.release();
  }
}

/** The graph must match the manifest, or runs would fail later with obscure messages. */
function checkIo(manifest: CausalLmManifest, session: ort.InferenceSession): void {
  const missingIn = manifest.inputNames.filter((n) => !session.inputNames.includes(n));
  if (missingIn.length) throw new Error(`model lacks inputs named in manifest: ${missingIn.join(', ')}`);
  const unknownIn = session.inputNames.filter((n) => !manifest.inputNames.includes(n) && n !== USE_CACHE_BRANCH);
  if (unknownIn.length) throw new Error(`model has inputs the runtime cannot feed: ${unknownIn.join(', ')}`);
  const missingOut = manifest.outputNames.filter((n) => !session.outputNames.includes(n));
  if (missingOut.length) throw new Error(`model lacks outputs named in manifest: ${missingOut.join(', ')}`);
  for (const name of session.inputNames.filter((n) => n.startsWith('past_key_values.'))) {
    const present = name.replace('past_key_values.', 'present.');
    if (!session.outputNames.includes(present)) throw new Error(`model has ${name} but no ${present} output`);
  }
}
