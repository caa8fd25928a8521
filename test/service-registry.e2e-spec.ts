import { InstanceRecord, parseInstanceRecord, registryKeys } from '@troupe/discovery';
import { GrpcCallError, GrpcStatus } from '@troupe/grpc';
import { Redis } from '@troupe/redis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateThrough, openInferencePool } from './support/inference-pool';
import { writePacedModel } from './support/paced-model';
import { TEST_REDIS_URL } from './support/redis-cleanup';
import { ExtraInstance, REPO_ROOT, ServiceStack } from './support/service-stack';
import { until } from './support/until';

jest.setTimeout(180_000);

/**
 * Two inference instances behind the service registry. Each serves a `paced` model named
 * "shared" that repeats its own word, so a reply tells which instance wrote it: "alpha" is the
 * stack's own instance (2 ms a token), "bravo" the added one (40 ms a token, 20× slower), which
 * also serves "only-bravo".
 */
describe('service registry and balancing', () => {
  const modelsA = mkdtempSync(join(tmpdir(), 'troupe-models-a-'));
  const modelsB = mkdtempSync(join(tmpdir(), 'troupe-models-b-'));
  let stack: ServiceStack;
  let bravo: ExtraInstance;
  let redis: Redis;

  /** Which instance wrote a reply (even a reply of a few bytes' tokens, cut short). */
  const servedBy = (text: string) => (text.startsWith('a') ? 'alpha' : text.startsWith('b') ? 'bravo' : `other: ${text.slice(0, 20)}`);

  async function records(service: string): Promise<InstanceRecord[]> {
    const ids = await redis.zrange(registryKeys.index(service), '0', '-1');
    const found = await Promise.all(ids.map((id) => redis.get(registryKeys.record(service, id))));
    return found.flatMap((json) => (json ? [parseInstanceRecord(json)!] : []));
  }

  beforeAll(async () => {
    writePacedModel(modelsA, 'shared', 2, 'alpha ');
    writePacedModel(modelsB, 'shared', 40, 'bravo ');
    writePacedModel(modelsB, 'only-bravo', 2, 'bravo ');
    const discovery = { DISCOVERY: 'redis' };
    stack = await ServiceStack.start({
      modelsDir: join(REPO_ROOT, 'models'),
      env: { session: discovery, 'role-context': discovery, 'tool-plugin': discovery, inference: { ...discovery, MODELS_DIR: modelsA } },
    });
    bravo = await stack.addInstance('inference', { ...discovery, MODELS_DIR: modelsB });
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: stack.prefix });
  });

  afterAll(async () => {
    redis?.disconnect();
    await stack?.stop();
    for (const dir of [modelsA, modelsB]) rmSync(dir, { recursive: true, force: true });
  });

  it('lists every instance with its address, models and load, and the session sees them in /health', async () => {
    const inference = await until(async () => {
      const found = await records('inference');
      return found.length === 2 ? found : undefined;
    }, 'two inference records');
    const byAddress = Object.fromEntries(inference.map((r) => [r.address, r]));
    expect(byAddress[stack.grpcAddress('inference')].models).toEqual(['shared']);
    expect([...byAddress[bravo.grpcAddress].models].sort()).toEqual(['only-bravo', 'shared']);
    for (const r of inference) {
      expect(r).toMatchObject({ service: 'inference', load: { inFlight: expect.any(Number), queueDepth: expect.any(Number), eventLoopDelayP99Ms: expect.any(Number) } });
      expect(await redis.pttl(registryKeys.record('inference', r.id))).toBeGreaterThan(0);
    }
    expect((await records('role-context')).map((r) => r.address)).toEqual([stack.grpcAddress('role-context')]);
    expect((await records('tool-plugin')).map((r) => r.address)).toEqual([stack.grpcAddress('tool-plugin')]);

    const health = await until(async () => {
      const report = await (await fetch(`${stack.sessionUrl}/health`)).json();
      return report.checks.inference?.detail?.instances?.length === 2 ? report : undefined;
    }, 'the session to see both inference instances');
    expect(health.ready).toBe(true);
    expect(health.checks.inference.detail.instances.map((i: { address: string }) => i.address).sort()).toEqual([stack.grpcAddress('inference'), bravo.grpcAddress].sort());
  });

  it('routes a model served by one instance only to that instance', async () => {
    const pool = openInferencePool(stack.prefix, 'round-robin');
    try {
      await pool.waitForReady(5000);
      const replies = await Promise.all(Array.from({ length: 6 }, () => generateThrough(pool, 'only-bravo', 4)));
      expect(replies.map((r) => servedBy(r.text))).toEqual(Array(6).fill('bravo'));
      const missing = await generateThrough(pool, 'nobody-serves-this', 4);
      expect(missing.error).toBeInstanceOf(GrpcCallError);
      expect((missing.error as GrpcCallError).code).toBe(GrpcStatus.UNAVAILABLE);
      expect(missing.error!.message).toMatch(/no inference instance serves model "nobody-serves-this"/);
    } finally {
      pool.closeAll();
    }
  });

  it("lists and changes models on every instance from the admin API, saying what each did", async () => {
    const admin = async (method: string, path: string) => {
      const res = await fetch(`${stack.sessionUrl}${path}`, { method });
      return { status: res.status, body: await res.json() };
    };
    const listed = await until(async () => {
      const res = await admin('GET', '/admin/models');
      return res.body.instances?.length === 2 ? res : undefined;
    }, 'the admin listing to cover both instances');
    expect(listed.body.models.map((m: { name: string }) => m.name).sort()).toEqual(['only-bravo', 'shared']);
    const byAddress = Object.fromEntries(listed.body.instances.map((i: { address: string; result: { name: string }[] }) => [i.address, i.result.map((m) => m.name).sort()]));
    expect(byAddress).toEqual({ [stack.grpcAddress('inference')]: ['shared'], [bravo.grpcAddress]: ['only-bravo', 'shared'] });

    // A folder only one instance has: reloaded there, NOT_FOUND on the other, and the call succeeds.
    const reloaded = await admin('POST', '/admin/models/only-bravo/reload');
    expect(reloaded.status).toBe(200);
    expect(reloaded.body.model).toMatchObject({ name: 'only-bravo', status: 'ready' });
    const outcome = Object.fromEntries(reloaded.body.instances.map((i: { address: string; result?: { status: string }; error?: { code: string } }) => [i.address, i.result?.status ?? i.error?.code]));
    expect(outcome).toEqual({ [stack.grpcAddress('inference')]: 'NOT_FOUND', [bravo.grpcAddress]: 'ready' });
    // A folder no instance has fails as it would with one instance.
    expect((await admin('POST', '/admin/models/nobody-has-this/reload')).status).toBe(404);

    // The session's /metrics shows where its calls went, per instance and outcome.
    const metrics = (await (await fetch(`${stack.sessionUrl}/metrics`)).text()).split('\n');
    const sample = (name: string, ...labels: string[]) => metrics.find((l) => l.startsWith(`${name}{`) && labels.every((x) => l.includes(x)));
    expect(sample('troupe_peer_instances', 'peer="inference"')).toMatch(/ 2$/);
    expect(sample('troupe_peer_calls_total', 'peer="inference"', `instance="${stack.grpcAddress('inference')}"`, 'outcome="NOT_FOUND"')).toBeDefined();
    expect(sample('troupe_peer_calls_total', 'peer="inference"', `instance="${bravo.grpcAddress}"`, 'outcome="OK"')).toBeDefined();
  });

  it('shifts traffic away from the slowed instance under load-aware balancing (round-robin splits it evenly)', async () => {
    const served = async (balancing: 'round-robin' | 'load-aware') => {
      const pool = openInferencePool(stack.prefix, balancing);
      const counts: Record<string, number> = {};
      try {
        await pool.waitForReady(5000);
        // A warm-up round teaches the pool how long each instance takes (its first calls are spread by load alone).
        await Promise.all(Array.from({ length: 12 }, () => generateThrough(pool, 'shared', 8)));
        let next = 0;
        const worker = async () => {
          while (next++ < 48) {
            const reply = await generateThrough(pool, 'shared', 8);
            if (reply.error) throw reply.error;
            counts[servedBy(reply.text)] = (counts[servedBy(reply.text)] ?? 0) + 1;
          }
        };
        await Promise.all(Array.from({ length: 6 }, worker));
      } finally {
        pool.closeAll();
      }
      return counts;
    };
    const roundRobin = await served('round-robin');
    expect(roundRobin).toEqual({ alpha: 24, bravo: 24 });
    const loadAware = await served('load-aware');
    expect(loadAware.alpha + (loadAware.bravo ?? 0)).toBe(48);
    // The slowed instance gets at most a probing call now and then.
    expect(loadAware.bravo ?? 0).toBeLessThanOrEqual(6);
  });

  it('ends a stream cut by a crashed instance with a clear error, retries calls that got no answer yet, and drops the record after its TTL', async () => {
    const pool = openInferencePool(stack.prefix, 'round-robin');
    try {
      await pool.waitForReady(5000);
      // Long replies on both instances; once each has sent a token, the slow one is killed.
      let started = 0;
      const streams = Array.from({ length: 2 }, () => generateThrough(pool, 'shared', 1000, () => started++));
      await until(async () => (started >= 2 ? true : undefined), 'both streams to start');
      // Each instance reports the stream it serves in its load within a heartbeat.
      await until(async () => ((await records('inference')).every((r) => r.load.inFlight >= 1) ? true : undefined), 'both to report a call in flight', 3000);
      const bravoId = (await records('inference')).find((r) => r.address === bravo.grpcAddress)!.id;
      await bravo.kill();
      // Checked at once, within the record's TTL (3 s from the last heartbeat, at most 1 s ago):
      // the dead instance's record is still there (a crash deletes nothing)...
      expect(await redis.exists(registryKeys.record('inference', bravoId))).toBe(1);
      // ...and new calls all succeed on the other one, those that picked the dead one retried before any token.
      const fresh = await Promise.all(Array.from({ length: 6 }, () => generateThrough(pool, 'shared', 4)));
      expect(fresh.map((r) => r.error?.message ?? servedBy(r.text))).toEqual(Array(6).fill('alpha'));

      const [first, second] = await Promise.all(streams);
      const cut = [first, second].find((r) => servedBy(r.text) === 'bravo')!;
      const whole = [first, second].find((r) => servedBy(r.text) === 'alpha')!;
      expect(whole).toMatchObject({ tokens: 1000 });
      expect(whole.error).toBeUndefined();
      expect(cut.error).toBeInstanceOf(GrpcCallError);
      expect((cut.error as GrpcCallError).code).toBe(GrpcStatus.UNAVAILABLE);
      expect(cut.error!.message).toMatch(/went away mid-stream after \d+ messages \(not retried\)/);

      // The record lapses after DISCOVERY_TTL_MS (3 s) without heartbeats.
      await until(async () => ((await redis.exists(registryKeys.record('inference', bravoId))) === 0 ? true : undefined), 'the record to expire', 5000);
      await until(async () => (pool.instances().length === 1 ? true : undefined), 'the pool to drop the dead instance', 3000);
    } finally {
      pool.closeAll();
    }
  });

  it('removes the record at once on a graceful stop', async () => {
    const charlie = await stack.addInstance('inference', { DISCOVERY: 'redis', MODELS_DIR: modelsA });
    const record = await until(async () => (await records('inference')).find((r) => r.address === charlie.grpcAddress), 'the new instance to announce itself');
    expect(await charlie.terminate()).toBe(0);
    expect(await redis.exists(registryKeys.record('inference', record.id))).toBe(0);
    expect(await redis.zscore(registryKeys.index('inference'), record.id)).toBeNull();
    expect(charlie.output.some((l) => l.includes('left the service registry'))).toBe(true);
  });
});
