import { existsSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { CausalLmManifest, loadCausalLmManifest } from './causal-lm-manifest';

export interface CausalLmSessionOptions {
  /** onnxruntime intra-op threads; defaults to manifest.threads. */
  intraOpThreads?: number;
  /** Execution providers in order of preference (e.g. ["cuda"]); CPU is the fallback. */
  executionProviders?: string[];
}

/** Which execution provider a session ended up on, and why not the requested one. */
export interface ExecutionProviderStatus {
  requested: string[];
  active: string;
  /** Set when a requested provider could not load and the session fell back to CPU. */
  fallbackReason?: string;
}

/**
 * KV cache of one sequence. The tensors may be shared with the other sequences of a decode
 * batch: this sequence is row `row` of tensors [batch, kvHeads, width, headDim] and owns the
 * last `length` positions of the past axis (the rest of the row is left padding).
 */
export class KvCache {
  constructor(
    public past: Record<string, ort.Tensor>,
    public length = 0,
    public row = 0,
    public width = 0,
  ) {}

  /** Drops this sequence's reference; shared batch tensors go when no member holds them. */
  dispose(): void {
    this.past = {};
    this.length = 0;
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
    readonly executionProvider: ExecutionProviderStatus,
  ) {
    this.pastNames = session.inputNames.filter((n) => n.startsWith('past_key_values.'));
    this.hasPositionIds = session.inputNames.includes('position_ids');
    this.hasUseCacheBranch = session.inputNames.includes(USE_CACHE_BRANCH);
  }

  static async load(modelDir: string, opts: CausalLmSessionOptions = {}): Promise<CausalLmSession> {
    const manifest = loadCausalLmManifest(modelDir);
    const modelPath = join(modelDir, manifest.files.model);
    if (!existsSync(modelPath)) throw new Error(`model file ${modelPath} (manifest files.model) does not exist`);
    const { session, status } = await createOrtSession(modelPath, {
      intraOpNumThreads: opts.intraOpThreads ?? manifest.threads,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      graphOptimizationLevel: 'all',
    }, opts.executionProviders ?? []);
    try {
      checkIo(manifest, session);
    } catch (err) {
      await session.release();
      throw new Error(`${modelPath}: ${(err as Error).message}`);
    }
    return new CausalLmSession(modelDir, manifest, session, status);
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
      ...(this.isWholeBatch([cache]) ? cache.past : this.mergePast([cache], cache.length)),
    };
    if (this.hasPositionIds) {
      feeds.position_ids = new ort.Tensor('int64', BigInt64Array.from({ length: n }, (_, i) => BigInt(cache.length + i)), [1, n]);
    }
    if (this.hasUseCacheBranch) feeds[USE_CACHE_BRANCH] = new ort.Tensor('bool', [cache.length > 0], [1]);

    const out = await this.session.run(feeds);
    cache.past = this.presentOf(out);
    cache.length = total;
    cache.row = 0;
    cache.width = total;
    const logits = out.logits;
    const vocab = logits.dims[2];
    return (logits.data as Float32Array).slice((n - 1) * vocab, n * vocab);
  }

  /**
   * Prefills several fresh sequences in ONE run: prompts are left-padded to the longest, the
   * padding hidden by attention_mask (and given position 0), so each row's last position is
   * its own prompt's end. The caches become rows of the shared output, ready to decode
   * together. Returns each sequence's next-token logits.
   */
  async prefillBatch(caches: readonly KvCache[], prompts: readonly (readonly number[])[]): Promise<Float32Array[]> {
    const b = caches.length;
    if (b === 0 || prompts.length !== b) throw new Error('prefillBatch needs one prompt per cache');
    if (caches.some((c) => c.length !== 0)) throw new Error('prefillBatch needs fresh caches');
    const width = Math.max(...prompts.map((p) => p.length));
    if (prompts.some((p) => p.length === 0)) throw new Error('prefillBatch needs non-empty prompts');
    if (width > this.manifest.contextLength) throw new Error(`context length exceeded: ${width} > ${this.manifest.contextLength}`);
    const ids = new BigInt64Array(b * width);
    const mask = new BigInt64Array(b * width);
    const positions = new BigInt64Array(b * width);
    prompts.forEach((p, i) => {
      const pad = width - p.length;
      for (let j = 0; j < p.length; j++) {
        ids[i * width + pad + j] = BigInt(p[j]);
        mask[i * width + pad + j] = 1n;
        positions[i * width + pad + j] = BigInt(j);
      }
    });
    const { numKvHeads: h, headDim: d } = this.manifest;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [b, width]),
      attention_mask: new ort.Tensor('int64', mask, [b, width]),
    };
    for (const name of this.pastNames) feeds[name] = new ort.Tensor('float32', new Float32Array(0), [b, h, 0, d]);
    if (this.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', positions, [b, width]);
    if (this.hasUseCacheBranch) feeds[USE_CACHE_BRANCH] = new ort.Tensor('bool', [false], [1]);

    const out = await this.session.run(feeds);
    const next = this.presentOf(out);
    caches.forEach((c, i) => {
      c.past = next;
      c.row = i;
      c.width = width;
      c.length = prompts[i].length;
    });
    const vocab = out.logits.dims[2];
    const data = out.logits.data as Float32Array;
    return caches.map((_, i) => data.slice((i * width + width - 1) * vocab, (i * width + width) * vocab));
  }

  /**
   * One decode step for several sequences in ONE run: each appends its token. Caches of
   * different lengths are merged along the past axis with left padding that attention_mask
   * hides; position_ids carry each sequence's own positions, so a sequence computes the same
   * thing whoever its companions are. When the caches already are rows of the previous step's
   * output they are fed as they are, with no copy, even when a few rows have left the batch:
   * a left row is decoded along (token 0, attending to itself only) and its result ignored,
   * which costs far less than copying every other row's cache into a compacted tensor.
   * Returns each sequence's next-token logits.
   */
  async decodeBatch(caches: readonly KvCache[], tokenIds: readonly number[]): Promise<Float32Array[]> {
    if (caches.length === 0 || tokenIds.length !== caches.length) throw new Error('decodeBatch needs one token per cache');
    for (const c of caches) {
      if (c.length === 0) throw new Error('decodeBatch needs prefilled caches');
      if (c.length + 1 > this.manifest.contextLength) throw new Error(`context length exceeded: ${c.length} + 1 > ${this.manifest.contextLength}`);
    }
    const rows = this.sharedRows(caches);
    if (rows === undefined) {
      // Compact: the caches become rows 0..n-1 of fresh tensors.
      const width = Math.max(...caches.map((c) => c.length));
      const merged = this.mergePast(caches, width);
      caches.forEach((c, i) => {
        c.past = merged;
        c.row = i;
        c.width = width;
      });
    }
    const b = rows ?? caches.length;
    const width = caches[0].width;
    const total = width + 1;
    const ids = new BigInt64Array(b);
    const positions = new BigInt64Array(b);
    const mask = new BigInt64Array(b * total);
    // Rows no cache holds any more: only their own new position is visible.
    for (let r = 0; r < b; r++) mask[r * total + width] = 1n;
    caches.forEach((c, i) => {
      ids[c.row] = BigInt(tokenIds[i]);
      positions[c.row] = BigInt(c.length);
      mask.fill(1n, c.row * total + (width - c.length), (c.row + 1) * total);
    });
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, [b, 1]),
      attention_mask: new ort.Tensor('int64', mask, [b, total]),
      ...caches[0].past,
    };
    if (this.hasPositionIds) feeds.position_ids = new ort.Tensor('int64', positions, [b, 1]);
    if (this.hasUseCacheBranch) feeds[USE_CACHE_BRANCH] = new ort.Tensor('bool', [true], [1]);

    const out = await this.session.run(feeds);
    const next = this.presentOf(out);
    for (const c of caches) {
      c.past = next;
      c.width = total;
      c.length += 1;
    }
    const vocab = out.logits.dims[2];
    const data = out.logits.data as Float32Array;
    // Views, not copies: each run's output is a fresh buffer, so the rows stay as they are.
    return caches.map((c) => data.subarray(c.row * vocab, (c.row + 1) * vocab));
  }

  /** KV bytes per token over all layers (keys and values). */
  get kvBytesPerToken(): number {
    return this.pastNames.length * this.manifest.numKvHeads * this.manifest.headDim * 4;
  }

  private presentOf(out: ort.InferenceSession.OnnxValueMapType): Record<string, ort.Tensor> {
    const next: Record<string, ort.Tensor> = {};
    for (const name of this.pastNames) next[name] = out[name.replace('past_key_values.', 'present.')] as ort.Tensor;
    return next;
  }

  /** True when `caches` are, in order, all the rows of the same tensors. */
  private isWholeBatch(caches: readonly KvCache[]): boolean {
    return this.sharedRows(caches) === caches.length && caches.every((c, i) => c.row === i);
  }

  /**
   * Row count of the tensors `caches` share, when they are distinct rows of the same tensors
   * of one width and at most a quarter of the rows are unheld (left the batch); else undefined.
   */
  private sharedRows(caches: readonly KvCache[]): number | undefined {
    const first = caches[0];
    const rows = first.past[this.pastNames[0]]?.dims[0];
    if (rows === undefined || caches.length * 4 < rows * 3) return undefined;
    const seen = new Uint8Array(rows);
    for (const c of caches) {
      if (c.past !== first.past || c.width !== first.width || c.row >= rows || seen[c.row]) return undefined;
      seen[c.row] = 1;
    }
    return rows;
  }

  /** Copies each cache's positions into new tensors of `width`, right-aligned (left padding). */
  private mergePast(caches: readonly KvCache[], width: number): Record<string, ort.Tensor> {
    const { numKvHeads: h, headDim: d } = this.manifest;
    const b = caches.length;
    const merged: Record<string, ort.Tensor> = {};
    for (const name of this.pastNames) {
      const dst = new Float32Array(b * h * width * d);
      caches.forEach((c, i) => {
        if (c.length === 0) return;
        const src = c.past[name].data as Float32Array;
        for (let head = 0; head < h; head++) {
          const from = ((c.row * h + head) * c.width + (c.width - c.length)) * d;
          dst.set(src.subarray(from, from + c.length * d), ((i * h + head) * width + (width - c.length)) * d);
        }
      });
      merged[name] = new ort.Tensor('float32', dst, [b, h, width, d]);
    }
    return merged;
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

/**
 * Creates an onnxruntime session on the requested execution providers; when one of them cannot
 * load (e.g. CUDA libraries absent), falls back to CPU and says why instead of failing.
 */
export async function createOrtSession(
  modelPath: string,
  options: ort.InferenceSession.SessionOptions,
  requested: readonly string[],
): Promise<{ session: ort.InferenceSession; status: ExecutionProviderStatus }> {
  const wanted = requested.filter((ep) => ep !== 'cpu');
  let fallbackReason: string | undefined;
  if (wanted.length > 0) {
    try {
      const session = await ort.InferenceSession.create(modelPath, { ...options, executionProviders: [...wanted, 'cpu'] });
      return { session, status: { requested: [...requested], active: wanted[0] } };
    } catch (err) {
      fallbackReason = `${wanted.join(',')} unavailable: ${firstLine((err as Error).message)}`;
    }
  }
  try {
    const session = await ort.InferenceSession.create(modelPath, { ...options, executionProviders: ['cpu'] });
    return { session, status: { requested: [...requested], active: 'cpu', ...(fallbackReason ? { fallbackReason } : {}) } };
  } catch (err) {
    throw new Error(`onnxruntime cannot load ${modelPath}: ${(err as Error).message}`);
  }
}

const firstLine = (s: string) => s.split('\n')[0].slice(0, 300);
