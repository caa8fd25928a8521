import { AdaptiveTokenInterval, DEFAULT_ADAPTIVE_POLICY } from './adaptive-token-interval';

describe('AdaptiveTokenInterval', () => {
  const interval = (baseMs: number, maxMs: number) => new AdaptiveTokenInterval({ ...DEFAULT_ADAPTIVE_POLICY, baseMs, maxMs });

  it('keeps its base while the event loop keeps up', () => {
    const pacer = interval(50, 200);
    for (const u of [0.1, 0.5, 0.7, 0.79]) pacer.observe(u);
    expect(pacer.ms).toBe(50);
  });

  it('stretches step by step under sustained load, never past its maximum', () => {
    const pacer = interval(50, 200);
    const seen: number[] = [];
    for (let i = 0; i < 6; i++) {
      pacer.observe(0.95);
      seen.push(pacer.ms);
    }
    expect(seen).toEqual([75, 113, 170, 200, 200, 200]);
  });

  it('holds between the thresholds and comes back to its base once the load goes', () => {
    const pacer = interval(50, 200);
    for (let i = 0; i < 4; i++) pacer.observe(0.95);
    pacer.observe(0.7);
    expect(pacer.ms).toBe(200);
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      pacer.observe(0.2);
      seen.push(pacer.ms);
    }
    expect(seen).toEqual([133, 89, 59, 50, 50]);
  });

  it('stays fixed when the maximum is not above the base, or tokens are not paced at all', () => {
    for (const pacer of [interval(50, 50), interval(0, 200)]) {
      pacer.observe(1);
      expect(pacer.adaptive).toBe(false);
      expect([0, 50]).toContain(pacer.ms);
    }
  });
});
