/** Token sampling: greedy at temperature 0, else temperature + top-k + top-p with a seeded PRNG. */

// Module-level aliases: global lookups are slow in vm sandboxes (jest) and this is a hot loop.
const exp = Math.exp;
const isNaN = Number.isNaN;

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

/**
 * CTRL-style repetition penalty (as in Hugging Face and vLLM): logits of tokens already seen
 * are divided by `penalty` when positive and multiplied when negative. Changes `logits` in
 * place; a penalty of 1 (or less, or not finite) does nothing.
 */
export function applyRepetitionPenalty(logits: Float32Array, seen: Iterable<number>, penalty: number): void {
  if (!(penalty > 1) || !Number.isFinite(penalty)) return;
  for (const id of seen) {
    if (id < 0 || id >= logits.length) continue;
    const v = logits[id];
    logits[id] = v > 0 ? v / penalty : v * penalty;
  }
}

export function sampleToken(logits: ArrayLike<number>, params: SamplingParams, rng: SeededRandom): number {
  const n = logits.length;
  if (n === 0) throw new Error('cannot sample from empty logits');
  if (!(params.temperature > 0)) return argmax(logits);
  const invT = 1 / params.temperature;
  const topP = params.topP > 0 && params.topP < 1 ? params.topP : 1;
  const k = params.topK > 0 && params.topK < n ? Math.floor(params.topK) : n;

  let candidates: number[];
  if (k < n) {
    candidates = topKIndices(logits, k);
  } else {
    const maxLogit = logits[argmax(logits)];
    const weights = new Float64Array(n);
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const w = isNaN(logits[i]) ? 0 : exp((logits[i] - maxLogit) * invT);
      weights[i] = w;
      sum += w;
    }
    // No limits: draw straight from the full distribution, no sorting.
    if (topP === 1) return draw(weights, sum, rng.next(), (i) => i);
    // Tokens below (1-p)/n of the mass together hold less than 1-p, so the nucleus never
    // reaches them: dropping them before the sort is exact and makes the sort small.
    const floor = ((1 - topP) / n) * sum;
    candidates = [];
    for (let i = 0; i < n; i++) if (weights[i] >= floor && weights[i] > 0) candidates.push(i);
    candidates.sort(byLogitDesc(logits));
  }
  if (candidates.length === 0) return argmax(logits);

  // Softmax over candidates (sorted by logit, descending), stabilised by the max.
  const maxLogit = logits[candidates[0]];
  const probs = new Float64Array(candidates.length);
  let sum = 0;
  for (let i = 0; i < candidates.length; i++) {
    probs[i] = exp((logits[candidates[i]] - maxLogit) * invT);
    sum += probs[i];
  }
  // Top-p: the smallest prefix whose mass reaches p (always at least one token).
  let keep = candidates.length;
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
  return draw(probs.subarray(0, keep), kept, rng.next(), (i) => candidates[i]);
}

/** Picks index i with probability weights[i]/total using uniform u in [0,1). */
function draw(weights: Float64Array, total: number, u: number, toToken: (i: number) => number): number {
  let r = u * total;
  let last = 0;
  for (let i = 0; i < weights.length; i++) {
    if (weights[i] <= 0) continue;
    last = i;
    r -= weights[i];
    if (r < 0) return toToken(i);
  }
  return toToken(last);
}

const byLogitDesc = (logits: ArrayLike<number>) => (a: number, b: number) => logits[b] - logits[a] || a - b;

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
    if (isNaN(logits[i])) continue;
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
