import { applyRepetitionPenalty, argmax, sampleToken, SeededRandom } from './sampling';

const logits = Float32Array.from([1, 3, 2, 0.5, 2.9, -1, NaN, 0]);

function histogram(params: { temperature: number; topK: number; topP: number }, n = 4000, seed = 1): Map<number, number> {
  const rng = new SeededRandom(seed);
  const h = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const t = sampleToken(logits, params, rng);
    h.set(t, (h.get(t) ?? 0) + 1);
  }
  return h;
}

describe('sampling', () => {
  it('is greedy at temperature 0 (first max, NaN ignored)', () => {
    expect(argmax(logits)).toBe(1);
    expect(argmax([2, 5, 5])).toBe(1);
    expect(sampleToken(logits, { temperature: 0, topK: 3, topP: 0.5 }, new SeededRandom(1))).toBe(1);
  });

  it('is deterministic for a seed and differs across seeds', () => {
    const run = (seed: number) => {
      const rng = new SeededRandom(seed);
      return Array.from({ length: 50 }, () => sampleToken(logits, { temperature: 1.5, topK: 0, topP: 1 }, rng));
    };
    expect(run(42)).toEqual(run(42));
    expect(run(42)).not.toEqual(run(43));
  });

  it('restricts to the top-k tokens', () => {
    const h = histogram({ temperature: 5, topK: 2, topP: 1 });
    expect([...h.keys()].sort()).toEqual([1, 4]);
    expect(histogram({ temperature: 5, topK: 1, topP: 1 }).get(1)).toBe(4000);
  });

  it('restricts to the top-p nucleus', () => {
    // At T=1 the two best (3, 2.9) hold ~0.57 of the mass; p=0.5 needs both, p=0.3 only the best.
    expect([...histogram({ temperature: 1, topK: 0, topP: 0.5 }).keys()].sort()).toEqual([1, 4]);
    expect([...histogram({ temperature: 1, topK: 0, topP: 0.3 }).keys()]).toEqual([1]);
  });

  it('follows the softmax distribution', () => {
    const h = histogram({ temperature: 1, topK: 0, topP: 1 }, 20000);
    const finite = [1, 3, 2, 0.5, 2.9, -1, -Infinity, 0];
    const z = finite.reduce((s, x) => s + Math.exp(x), 0);
    finite.forEach((x, i) => expect(Math.abs((h.get(i) ?? 0) / 20000 - Math.exp(x) / z)).toBeLessThan(0.015));
    expect(h.has(6)).toBe(false); // NaN never sampled
  });

  it('top-p without top-k matches the brute-force nucleus', () => {
    const rng = new SeededRandom(11);
    const big = Float32Array.from({ length: 3000 }, () => rng.next() * 6);
    const order = Array.from(big.keys()).sort((a, b) => big[b] - big[a]);
    const z = order.reduce((s, i) => s + Math.exp(big[i]), 0);
    let cum = 0;
    const nucleus = new Set<number>();
    for (const i of order) {
      nucleus.add(i);
      cum += Math.exp(big[i]) / z;
      if (cum >= 0.2) break;
    }
    const r = new SeededRandom(5);
    const seen = new Set<number>();
    for (let i = 0; i < 3000; i++) seen.add(sampleToken(big, { temperature: 1, topK: 0, topP: 0.2 }, r));
    expect([...seen].every((t) => nucleus.has(t))).toBe(true);
    expect(seen.size).toBeGreaterThan(nucleus.size * 0.75);
  });

  it('uses a heap for top-k that matches full sorting', () => {
    const rng = new SeededRandom(7);
    const big = Float32Array.from({ length: 5000 }, () => rng.next() * 10);
    const best = Array.from(big.keys()).sort((a, b) => big[b] - big[a]).slice(0, 5);
    const seen = new Set<number>();
    const r = new SeededRandom(3);
    for (let i = 0; i < 300; i++) seen.add(sampleToken(big, { temperature: 100, topK: 5, topP: 1 }, r));
    expect([...seen].sort((a, b) => a - b)).toEqual(best.sort((a, b) => a - b));
  });

  it('repetition penalty divides positive and multiplies negative logits of seen tokens only', () => {
    const l = Float32Array.from([2, -1, 3, 1]);
    applyRepetitionPenalty(l, new Set([0, 1, 9]), 2);
    expect([...l]).toEqual([1, -2, 3, 1]);
    applyRepetitionPenalty(l, [2], 1);
    expect(l[2]).toBe(3);
    // The penalty can move the greedy choice off a repeated token.
    const m = Float32Array.from([3, 2]);
    applyRepetitionPenalty(m, [0], 1.6);
    expect(argmax(m)).toBe(1);
  });
});
