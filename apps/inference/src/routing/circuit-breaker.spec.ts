import { CircuitBreaker } from './circuit-breaker';

describe('CircuitBreaker', () => {
  let now = 0;
  const make = () => new CircuitBreaker({ windowSize: 4, minRequests: 3, failureRate: 0.5, openMs: 1000 }, () => now);
  beforeEach(() => (now = 0));

  it('stays closed while the error rate is under the threshold or too few calls were seen', () => {
    const b = make();
    b.record(false);
    b.record(false);
    expect(b.state).toBe('closed'); // 2 outcomes < minRequests
    const c = make();
    c.record(false);
    c.record(true);
    c.record(true);
    c.record(true);
    expect(c.state).toBe('closed'); // window [false, true, true, true]: 25%
    expect(b.tryAcquire()).toBe(true);
  });

  it('opens once the sliding window reaches the error rate, and refuses calls while open', () => {
    const b = make();
    b.record(true);
    b.record(false);
    expect(b.state).toBe('closed');
    b.record(false); // 2 of 3 failed
    expect(b.state).toBe('open');
    expect(b.tryAcquire()).toBe(false);
    now = 999;
    expect(b.tryAcquire()).toBe(false);
  });

  it('forgets outcomes that slid out of the window', () => {
    const b = make();
    b.record(false);
    b.record(true);
    b.record(true);
    b.record(true);
    b.record(true); // the failure slid out: [true x4]
    b.record(false); // [true, true, true, false]: 25%
    expect(b.state).toBe('closed');
  });

  it('half-opens after openMs and lets exactly one probe through; success closes it', () => {
    const b = make();
    for (let i = 0; i < 3; i++) b.record(false);
    now = 1000;
    expect(b.state).toBe('half-open');
    expect(b.tryAcquire()).toBe(true);
    expect(b.tryAcquire()).toBe(false); // the probe is out
    b.record(true);
    expect(b.state).toBe('closed');
    expect(b.tryAcquire()).toBe(true);
    b.record(false);
    b.record(false);
    expect(b.state).toBe('closed'); // fresh window: 2 outcomes < minRequests
  });

  it('opens again when the probe fails, for another openMs', () => {
    const b = make();
    for (let i = 0; i < 3; i++) b.record(false);
    now = 1500;
    expect(b.tryAcquire()).toBe(true);
    b.record(false);
    expect(b.state).toBe('open');
    now = 2400;
    expect(b.tryAcquire()).toBe(false);
    now = 2500;
    expect(b.tryAcquire()).toBe(true);
  });

  it('frees the probe slot when the probe is cancelled without an outcome', () => {
    const b = make();
    for (let i = 0; i < 3; i++) b.record(false);
    now = 1000;
    expect(b.tryAcquire()).toBe(true);
    b.release();
    expect(b.tryAcquire()).toBe(true);
  });
});
