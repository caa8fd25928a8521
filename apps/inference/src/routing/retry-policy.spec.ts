import { RetryPolicy } from './retry-policy';

describe('RetryPolicy', () => {
  const options = { maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 1000 };

  it('retries only while no token reached the client and attempts remain', () => {
    const p = new RetryPolicy(options);
    expect(p.mayRetry(1, 0)).toBe(true);
    expect(p.mayRetry(2, 0)).toBe(true);
    expect(p.mayRetry(3, 0)).toBe(false);
    expect(p.mayRetry(1, 1)).toBe(false);
    expect(p.mayRetry(1, 50)).toBe(false);
  });

  it('waits a random share of an exponentially growing, capped ceiling (full jitter)', () => {
    let r = 0.999;
    const p = new RetryPolicy(options, () => r);
    expect(p.delayMs(1)).toBe(99); // ceiling 100
    expect(p.delayMs(2)).toBe(199); // ceiling 200
    expect(p.delayMs(3)).toBe(399);
    expect(p.delayMs(10)).toBe(999); // capped at maxDelayMs
    r = 0;
    expect(p.delayMs(3)).toBe(0);
    r = 0.5;
    expect(p.delayMs(2)).toBe(100);
  });

  it('honours Retry-After, capped at maxDelayMs', () => {
    const p = new RetryPolicy(options, () => 0);
    expect(p.delayMs(1, 400)).toBe(400);
    expect(p.delayMs(1, 30_000)).toBe(1000);
  });
});
