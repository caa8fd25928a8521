import { InstancePicker, SLOW_PROBE_INTERVAL_MS } from './instance-picker';
import type { DiscoveredInstance } from './instance-record';
import { parseInstanceRecord } from './instance-record';

const NOW = 1_000_000;

function instance(id: string, load: { inFlight?: number; queueDepth?: number } = {}, fields: Partial<DiscoveredInstance> = {}): DiscoveredInstance {
  return {
    id,
    service: 'inference',
    address: `10.0.0.${id.length}:50053`,
    models: ['chat'],
    load: { inFlight: load.inFlight ?? 0, queueDepth: load.queueDepth ?? 0, eventLoopDelayP99Ms: 1 },
    startedAt: NOW - 60_000,
    updatedAt: NOW,
    expiresAt: NOW + 3_000,
    ...fields,
  };
}

function tally(picker: InstancePicker, instances: DiscoveredInstance[], calls: number, model?: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < calls; i++) {
    const id = picker.pick(instances, { model, kind: 'generate' }, NOW)?.id ?? 'none';
    counts[id] = (counts[id] ?? 0) + 1;
  }
  return counts;
}

describe('InstancePicker', () => {
  it('round-robin takes turns whatever the load', () => {
    const picker = new InstancePicker('round-robin', 5_000);
    const instances = [instance('a', { inFlight: 50 }), instance('b')];
    expect(tally(picker, instances, 10)).toEqual({ a: 5, b: 5 });
  });

  it('load-aware sends to the instance reporting less in-flight work and queue', () => {
    const picker = new InstancePicker('load-aware', 5_000);
    const instances = [instance('busy', { inFlight: 4, queueDepth: 6 }), instance('idle', { inFlight: 1 })];
    expect(tally(picker, instances, 5)).toEqual({ idle: 5 });
  });

  it('load-aware counts its own open calls, so a burst spreads before the next report', () => {
    const picker = new InstancePicker('load-aware', 5_000);
    const instances = [instance('a'), instance('b', { inFlight: 2 })];
    const picked: string[] = [];
    for (let i = 0; i < 6; i++) {
      const id = picker.pick(instances, { kind: 'generate' }, NOW)!.id;
      picker.started(id);
      picked.push(id);
    }
    // a: 0,1,2 open before b's reported 2 ties it; then they alternate.
    expect(picked.filter((id) => id === 'a')).toHaveLength(4);
    expect(picked.filter((id) => id === 'b')).toHaveLength(2);
    for (const id of picked) picker.finished(id);
    expect(picker.openTo('a')).toBe(0);
  });

  it('load-aware breaks ties in turn', () => {
    const picker = new InstancePicker('load-aware', 5_000);
    expect(tally(picker, [instance('a'), instance('b')], 4)).toEqual({ a: 2, b: 2 });
  });

  it('load-aware compares two random instances of many (power of two choices)', () => {
    const rolls = [0, 0.99]; // first and last of the rotated candidates
    const picker = new InstancePicker('load-aware', 5_000, () => rolls.shift() ?? 0);
    const instances = [instance('a', { inFlight: 9 }), instance('b', { inFlight: 0 }), instance('c', { inFlight: 3 })];
    // Rotation starts at a; the two compared are a and c: c wins although b is idler.
    expect(picker.pick(instances, { kind: 'generate' }, NOW)?.id).toBe('c');
  });

  it('routes a model only to instances that list it', () => {
    const picker = new InstancePicker('load-aware', 5_000);
    const instances = [instance('both', { inFlight: 9 }, { models: ['chat', 'embedder'] }), instance('chat-only', {}, { models: ['chat'] })];
    expect(tally(picker, instances, 4, 'embedder')).toEqual({ both: 4 });
    expect(picker.pick(instances, { model: 'missing' }, NOW)).toBeUndefined();
    expect(picker.pick(instances, { kind: 'generate' }, NOW)?.id).toBe('chat-only');
  });

  it('skips an instance cooling down after a failure until the cool-down ends', () => {
    const picker = new InstancePicker('round-robin', 5_000);
    const instances = [instance('a', {}, { expiresAt: NOW + 10_000 }), instance('b', {}, { expiresAt: NOW + 10_000 })];
    picker.coolDown('a', NOW);
    expect(tally(picker, instances, 4)).toEqual({ b: 4 });
    expect(picker.isCooling('a', NOW + 4_999)).toBe(true);
    expect(picker.pick(instances, { exclude: new Set(['b']) }, NOW + 5_000)?.id).toBe('a');
  });

  it('skips instances whose record lapsed, and ones already tried for the call', () => {
    const picker = new InstancePicker('round-robin', 5_000);
    const instances = [instance('stale', {}, { expiresAt: NOW }), instance('fresh')];
    expect(tally(picker, instances, 3)).toEqual({ fresh: 3 });
    expect(picker.pick(instances, { exclude: new Set(['fresh']) }, NOW)).toBeUndefined();
  });

  it('forgets cool-downs of instances that left', () => {
    const picker = new InstancePicker('round-robin', 5_000);
    picker.coolDown('gone', NOW);
    picker.forgetAllBut(new Set(['other']));
    expect(picker.isCooling('gone', NOW)).toBe(false);
  });
});

describe('parseInstanceRecord', () => {
  it('reads a record and refuses ones missing fields or with a bad address', () => {
    const { expiresAt: _, ...record } = instance('a');
    expect(parseInstanceRecord(JSON.stringify(record))).toEqual(record);
    expect(parseInstanceRecord(JSON.stringify({ ...record, address: 'nowhere' }))).toBeUndefined();
    expect(parseInstanceRecord(JSON.stringify({ ...record, load: { inFlight: -1 } }))).toBeUndefined();
    expect(parseInstanceRecord('{not json')).toBeUndefined();
  });
});

describe('InstancePicker latency', () => {
  const longLived = (id: string, load: { inFlight?: number } = {}) => instance(id, load, { expiresAt: NOW + 600_000 });

  it('load-aware leaves out an instance answering much slower, even with fewer calls in flight', () => {
    const picker = new InstancePicker('load-aware', 5_000);
    const instances = [longLived('fast', { inFlight: 6 }), longLived('slow')];
    picker.observe('fast', 'generate', 4, NOW);
    picker.observe('slow', 'generate', 80, NOW);
    expect(tally(picker, instances, 10)).toEqual({ fast: 10 });
  });

  it('keeps a moderately slower instance in (within 3× the fastest plus slack), balancing it by load', () => {
    const picker = new InstancePicker('load-aware', 5_000);
    const instances = [longLived('fast', { inFlight: 6 }), longLived('slower')];
    picker.observe('fast', 'generate', 4, NOW);
    picker.observe('slower', 'generate', 16, NOW);
    expect(picker.pick(instances, { kind: 'generate' }, NOW)?.id).toBe('slower');
  });

  it('probes a slow instance with one call per interval, and lets it back in once it answers fast again', () => {
    const picker = new InstancePicker('load-aware', 5_000);
    const instances = [longLived('fast', { inFlight: 6 }), longLived('slow')];
    picker.observe('fast', 'generate', 4, NOW);
    picker.observe('slow', 'generate', 80, NOW);
    const later = NOW + SLOW_PROBE_INTERVAL_MS;
    expect(picker.pick(instances, { kind: 'generate' }, later)?.id).toBe('slow');
    picker.started('slow');
    // One probe at a time: the next calls go to the fast one until the probe answers.
    expect(tally(picker, instances, 3)).toEqual({ fast: 3 });
    picker.observe('slow', 'generate', 4, later + 4);
    picker.finished('slow');
    expect(picker.pick(instances, { kind: 'generate' }, later + 10)?.id).toBe('fast'); // 80 eased to 57: still slow, and just probed
    for (let probe = 1; probe <= 6; probe++) picker.observe('slow', 'generate', 4, later + probe * SLOW_PROBE_INTERVAL_MS);
    expect(picker.pick(instances, { kind: 'generate' }, later + 7 * SLOW_PROBE_INTERVAL_MS)?.id).toBe('slow');
  });

  it('keeps an EWMA per kind of call, so a long generation does not make quick calls look slow', () => {
    const picker = new InstancePicker('load-aware', 5_000);
    picker.observe('one', 'generate', 10, NOW);
    picker.observe('one', 'generate', 100, NOW);
    expect(picker.latencyOf('one', 'generate')).toBeCloseTo(37);
    picker.observe('one', 'listModels', 1, NOW);
    expect(picker.latencyOf('one', 'listModels')).toBe(1);
    const instances = [longLived('one'), longLived('two', { inFlight: 3 })];
    picker.observe('two', 'listModels', 40, NOW);
    expect(picker.pick(instances, { kind: 'generate' }, NOW)?.id).toBe('one');
    expect(picker.pick(instances, { kind: 'listModels' }, NOW)?.id).toBe('one');
    // Once two's generations prove 37× quicker, one is left out of them despite its lower load.
    picker.observe('two', 'generate', 1, NOW);
    expect(picker.pick(instances, { kind: 'generate' }, NOW)?.id).toBe('two');
  });

  it('round-robin ignores latency', () => {
    const picker = new InstancePicker('round-robin', 5_000);
    picker.observe('fast', 'generate', 4, NOW);
    picker.observe('slow', 'generate', 400, NOW);
    expect(tally(picker, [longLived('fast'), longLived('slow')], 4)).toEqual({ fast: 2, slow: 2 });
  });
});
