/** Token sampling: greedy at temperature 0, else temperature + top-k + top-p with a seeded PRNG. */

export interface SamplingParams {
  /** 0 (or less) = greedy argmax. */
  temperature: number;
  /** Keep the k most likely tokens; 0 = no limit. */
  topK: number;
  /** Keep the smallest set whose probability reaches p; 1 = no limit. */
  topP: number;
}

/** mulberry32: tiny, fast, and the same sequence for the same seed on every platform. */
export class SeededRandom {
  private state: number;

  constructor(seed: number) {
    // Fold seeds beyond 32 bits instead of silently truncating them.
    const s = Math.floor(Math.abs(seed));
    this.state = (s ^ Math.floor(s / 0x1_0000_0000)) >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** Index of the largest logit (first on ties; NaN never wins). */
export function argmax(logits: ArrayLike<number>): number {
  let best = 0;
  let bestVal = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    if (logits[i] > bestVal) {
      bestVal = logits[i];
      best = i;
    }
  }
  return best;
}

export function sampleToken(logits: ArrayLike<number>, params: SamplingParams, rng: SeededRandom): number {
  const n = logits.length;
  if (n === 0) throw new Error('cannot sample from empty logits');
  if (!(params.temperature > 0)) return argmax(logits);

  const k = params.topK > 0 && params.topK < n ? Math.floor(params.topK) : n;
  const candidates = k < n ? topKIndices(logits, k) : sortedIndices(logits);
  if (candidates.length === 0) return argmax(logits);

  // Softmax over candidates (sorted by logit, descending), stabilised by the max.
  const invT = 1 / params.temperature;
  const maxLogit = logits[candidates[0]];
  const probs = new Float64Array(candidates.length);
  let sum = 0;
  for (let i = 0; i < candidates.length; i++) {
    probs[i] = Math.exp((logits[candidates[i]] - maxLogit) * invT);
    sum += probs[i];
  }

  // Top-p: the smallest prefix whose mass reaches p (always at least one token).
  let keep = candidates.length;
  const topP = params.topP > 0 && params.topP < 1 ? params.topP : 1;
  if (topP < 1) {
    let cum = 0;
    for (let i = 0; i < candidates.length; i++) {
      cum += probs[i] / sum;
      if (cum >= topP) {
        keep = i + 1;
        break;
      }
    }
  }
  let kept = 0;
  for (let i = 0; i < keep; i++) kept += probs[i];

  let r = rng.next() * kept;
  for (let i = 0; i < keep; i++) {
    r -= probs[i];
    if (r < 0) return candidates[i];
  }
  return candidates[keep - 1];
}

const byLogitDesc = (logits: ArrayLike<number>) => (a: number, b: number) => logits[b] - logits[a] || a - b;

/** All finite-or-infinite (non-NaN) indices sorted by logit, descending. */
function sortedIndices(logits: ArrayLike<number>): number[] {
  const idx: number[] = [];
  for (let i = 0; i < logits.length; i++) if (!Number.isNaN(logits[i])) idx.push(i);
  return idx.sort(byLogitDesc(logits));
}

/** The k largest logits' indices, descending; O(n log k) with a min-heap for big vocabularies. */
function topKIndices(logits: ArrayLike<number>, k: number): number[] {
  const heap: number[] = [];
  // "less" = worse candidate: lower logit, or same logit and higher index.
  const less = (a: number, b: number) => logits[a] < logits[b] || (logits[a] === logits[b] && a > b);
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(heap[l], heap[m])) m = l;
      if (r < heap.length && less(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  };
  for (let i = 0; i < logits.length; i++) {
    if (Number.isNaN(logits[i])) continue;
    if (heap.length < k) {
      heap.push(i);
      for (let j = heap.length - 1; j > 0; ) {
        const p = (j - 1) >> 1;
        if (!less(heap[j], heap[p])) break;
        [heap[j], heap[p]] = [heap[p], heap[j]];
        j = p;
      }
    } else if (less(heap[0], i)) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort(byLogitDesc(logits));
}
