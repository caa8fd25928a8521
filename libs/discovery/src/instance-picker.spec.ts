import { InstancePicker } from './instance-picker';
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
    const id = picker.pick(instances, { model }, NOW)?.id ?? 'none';
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
      const id = picker.pick(instances, {}, NOW)!.id;
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
    expect(picker.pick(instances, {}, NOW)?.id).toBe('c');
  });

  it('routes a model only to instances that list it', () => {
    const picker = new InstancePicker('load-aware', 5_000);
    const instances = [instance('both', { inFlight: 9 }, { models: ['chat', 'embedder'] }), instance('chat-only', {}, { models: ['chat'] })];
    expect(tally(picker, instances, 4, 'embedder')).toEqual({ both: 4 });
    expect(picker.pick(instances, { model: 'missing' }, NOW)).toBeUndefined();
    expect(picker.pick(instances, {}, NOW)?.id).toBe('chat-only');
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
  it('load-aware keeps calls off an instance that answers much slower, even when it has fewer in flight', () => {
    const picker = new InstancePicker('load-aware', 5_000);
    const instances = [instance('fast', { inFlight: 6 }), instance('slow', { inFlight: 0 })];
    picker.observe('fast', 2, NOW);
    picker.observe('slow', 40, NOW);
    expect(tally(picker, instances, 10)).toEqual({ fast: 10 });
  });

  it('probes a slow instance again once it has not been asked for a while, and gives it back its share when it recovered', () => {
    const picker = new InstancePicker('load-aware', 5_000);
    const instances = [instance('fast', { inFlight: 3 }, { expiresAt: NOW + 60_000 }), instance('slow', {}, { expiresAt: NOW + 60_000 })];
    picker.observe('fast', 2, NOW);
    picker.observe('slow', 40, NOW);
    expect(picker.pick(instances, {}, NOW)?.id).toBe('fast');
    expect(picker.pick(instances, {}, NOW + 10_000)?.id).toBe('slow');
    picker.observe('slow', 2, NOW + 10_000);
    expect(picker.pick(instances, {}, NOW + 10_000)?.id).toBe('slow');
  });

  it('counts a slower answer at once and eases faster ones in', () => {
    const picker = new InstancePicker('load-aware', 5_000);
    const one = instance('one');
    picker.observe('one', 10, NOW);
    picker.observe('one', 100, NOW);
    expect(picker.score(one, NOW)).toBe(100);
    picker.observe('one', 10, NOW);
    expect(picker.score(one, NOW)).toBeCloseTo(73);
  });
});
