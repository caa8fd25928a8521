/**
 * Seeded PRNG (mulberry32) for the model builder. Kept separate from the sampler's PRNG on
 * purpose: the generated model bytes depend on this exact sequence, so it must never change
 * without bumping the model version.
 */
export class Mulberry32 {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1) with 32 bits of randomness. */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /**
   * `n` floats uniform in [-scale, scale). Uniform rather than Gaussian so only exact
   * arithmetic is involved (no Math.log/cos), keeping bytes identical across platforms.
   */
  uniform(n: number, scale: number): Float32Array {
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = (this.next() * 2 - 1) * scale;
    return out;
  }
}
