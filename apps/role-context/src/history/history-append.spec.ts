import { Logger } from '@troupe/logging';
import { Redis } from '@troupe/redis';
import { randomBytes } from 'node:crypto';
import { TEST_REDIS_URL, deleteKeysWithPrefix } from '../../../../test/support/redis-cleanup';
import { InvalidationBus } from '../caches/invalidation-bus';
import { RolePinsRepository } from '../context/role-pins.repository';
import { RoleContextConfig } from '../role-context.config';
import { HistoryRepository } from './history.repository';
import { HistoryService, sessionTag } from './history.service';
import { sessionKeys } from './session-keys';

// Integration with the real Redis: an append announces itself (and reads the window back) in
// its own script and a pin is set-or-read at once (fewer round trips); these check they still
// keep what they promise.
const quiet = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

describe('history appends and role pins on Redis', () => {
  const prefix = `troupe-test:${randomBytes(4).toString('hex')}:`;
  const config = Object.assign(new RoleContextConfig(), { REDIS_KEY_PREFIX: prefix, HISTORY_MAX_ENTRIES: 4, HISTORY_COMPACTION_BATCH: 2, INVALIDATION_ACK_TIMEOUT_MS: 2000 });
  const connections: Redis[] = [];
  const redis = () => {
    const r = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
    connections.push(r);
    return r;
  };
  const buses: InvalidationBus[] = [];
  const bus = async () => {
    const b = new InvalidationBus(redis(), config, quiet);
    await b.onModuleInit();
    buses.push(b);
    return b;
  };

  afterAll(async () => {
    await Promise.all(buses.map((b) => b.onApplicationShutdown()));
    await deleteKeysWithPrefix(prefix);
    for (const r of connections) r.disconnect();
  });

  it('announces an append in its own script: another instance dropped the tags before it returns, one notice per append', async () => {
    const [a, b] = [await bus(), await bus()];
    const dropped: string[][] = [];
    b.onInvalidate((tags) => dropped.push(tags));
    const notices: string[] = [];
    const listener = redis().duplicate();
    connections.push(listener);
    // It counts the notices, and confirms them as an instance would.
    listener.on('message', (_channel: string, raw: string) => {
      notices.push(raw);
      void connections[0].publish(`${prefix}role-context:invalidate-ack`, JSON.stringify({ from: 'listener', nonce: (JSON.parse(raw) as { nonce: string }).nonce, tags: [] }));
    });
    await listener.subscribe(`${prefix}role-context:invalidate`);
    const service = new HistoryService(new HistoryRepository(redis(), config, quiet), a, config, quiet);

    const id = await service.append('s1', { speakerKind: 'person', speaker: 'ada', text: 'hello', tokenCount: 0, turnId: 't1', toolCallsJson: '' });
    expect(id).toMatch(/^\d+-\d+$/);
    expect(dropped).toEqual([[sessionTag('s1')]]);
    await new Promise((r) => setTimeout(r, 50));
    expect(notices).toHaveLength(1);
    await listener.unsubscribe();
  });

  it('announces again when the append folded old entries into the summary', async () => {
    const a = await bus();
    const b = await bus();
    const dropped: string[][] = [];
    b.onInvalidate((tags) => dropped.push(tags));
    const service = new HistoryService(new HistoryRepository(redis(), config, quiet), a, config, quiet);
    const append = (i: number) => service.append('s2', { speakerKind: 'person', speaker: 'ada', text: `turn ${i}`, tokenCount: 0, turnId: `t${i}`, toolCallsJson: '' });
    for (let i = 0; i < 5; i++) await append(i);
    expect(dropped).toHaveLength(5);
    await append(5); // 6 = HISTORY_MAX_ENTRIES + HISTORY_COMPACTION_BATCH entries: two are folded
    expect(dropped).toHaveLength(7);
    const repository = new HistoryRepository(redis(), config, quiet);
    expect((await repository.window('s2', 10)).entries.map((e) => e.text)).toEqual(['turn 2', 'turn 3', 'turn 4', 'turn 5']);
    expect(await repository.summary('s2')).toContain('turn 0');
  });

  it('reads the window back in the append\'s round trip, and again after the append folded entries', async () => {
    const service = new HistoryService(new HistoryRepository(redis(), config, quiet), await bus(), config, quiet);
    const entry = (i: number) => ({ speakerKind: 'person', speaker: 'ada', text: `turn ${i}`, tokenCount: 0, turnId: `t${i}`, toolCallsJson: '' });
    const first = await service.appendAndRead('s4', entry(0), 10);
    expect(first.window).toEqual({ entries: [expect.objectContaining({ id: first.id, text: 'turn 0' })], summary: '' });
    for (let i = 1; i < 5; i++) {
      // The three most recent, oldest first, the new one last.
      const recent = Array.from({ length: i + 1 }, (_, k) => `turn ${k}`).slice(-3);
      expect((await service.appendAndRead('s4', entry(i), 3)).window!.entries.map((e) => e.text)).toEqual(recent);
    }
    // The sixth folds two entries into the summary: the window comes from after the fold.
    const folded = await service.appendAndRead('s4', entry(5), 10);
    expect(folded.window!.entries.map((e) => e.text)).toEqual(['turn 2', 'turn 3', 'turn 4', 'turn 5']);
    expect(folded.window!.summary).toContain('turn 0');
  });

  it('pins in one round trip, and only a new pins hash gets an expiry (reads do not extend it)', async () => {
    const pins = new RolePinsRepository(redis(), config);
    const raw = redis();
    const key = sessionKeys.rolePins('s3');
    expect(await pins.pinIfAbsent('s3', 'narrator', 2)).toBe(2);
    const ttl = await raw.pttl(key);
    expect(ttl).toBeGreaterThan(config.HISTORY_TTL_SECONDS * 1000 - 60_000);
    await raw.pexpire(key, 60_000);
    expect(await pins.pinIfAbsent('s3', 'narrator', 3)).toBe(2);
    expect(await pins.pinIfAbsent('s3', 'critic', 3)).toBe(3);
    expect(await raw.pttl(key)).toBeLessThanOrEqual(60_000);
    expect(await pins.get('s3', 'critic')).toBe(3);
  });
});
