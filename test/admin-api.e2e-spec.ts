import { SignJWT } from 'jose';
import { longTalkerRole, makeRolesDir } from './support/roles-fixture';
import { ServiceStack } from './support/service-stack';
import { until } from './support/until';

jest.setTimeout(120_000);

const SECRET = 'admin-api-test-secret-of-at-least-32-chars';
const ADMIN_KEY = 'admin-key-0123456789abcdefghij';
const VIEWER_KEY = 'viewer-key-0123456789abcdefghij';

function jwt(sub: string, roles: string[]): Promise<string> {
  return new SignJWT({ roles }).setProtectedHeader({ alg: 'HS256' }).setSubject(sub).setIssuedAt().setExpirationTime('5m').sign(new TextEncoder().encode(SECRET));
}

describe('admin API', () => {
  let stack: ServiceStack;
  let roles: ReturnType<typeof makeRolesDir>;

  const call = async (method: string, path: string, body?: unknown, headers: Record<string, string> = { 'x-api-key': ADMIN_KEY }) => {
    const res = await fetch(`${stack.sessionUrl}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const waitForRun = (runId: string, statuses: string[]) =>
    until(async () => {
      const r = await call('GET', `/admin/agent-runs/${runId}`);
      return statuses.includes(r.body.status) ? r.body : undefined;
    }, `run ${runId} to be ${statuses.join('|')}`);

  beforeAll(async () => {
    roles = makeRolesDir({ 'long-talker.json': longTalkerRole(40) });
    stack = await ServiceStack.start({
      rolesDir: roles.dir,
      env: { session: { AUTH_JWT_SECRET: SECRET, ADMIN_API_KEYS: `ops:admin:${ADMIN_KEY},dash:viewer:${VIEWER_KEY}`, AGENT_WORKER_CONCURRENCY: '4' } },
    });
  });

  afterAll(async () => {
    await stack?.stop();
    roles?.remove();
  });

  it('needs credentials, and enforces admin/operator/viewer per route (API keys and JWT roles)', async () => {
    expect(await call('GET', '/admin/roles', undefined, {})).toMatchObject({ status: 401, body: { statusCode: 401, code: 'UNAUTHENTICATED' } });
    expect(await call('GET', '/admin/roles', undefined, { 'x-api-key': 'wrong-key-0123456789abcdefghij' })).toMatchObject({ status: 401 });
    expect((await call('GET', '/admin/roles', undefined, { 'x-api-key': VIEWER_KEY })).status).toBe(200);
    const forbidden = await call('PUT', '/admin/roles/viewer-made', { name: 'V', persona: 'p', model: 'tiny-decoder' }, { 'x-api-key': VIEWER_KEY });
    expect(forbidden).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });

    const operator = { authorization: `Bearer ${await jwt('olga', ['operator'])}` };
    expect((await call('GET', '/admin/queues/counts', undefined, operator)).status).toBe(200);
    expect((await call('GET', '/admin/audit', undefined, operator)).status).toBe(403);
    const nobody = { authorization: `Bearer ${await jwt('nina', [])}` };
    expect((await call('GET', '/admin/queues/counts', undefined, nobody)).status).toBe(403);
  });

  it('validates bodies and queries with one error format naming the fields', async () => {
    const bad = await call('POST', '/admin/agent-runs', { role: 'Not A Role', task: '', surprise: 1, retry: { attempts: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ statusCode: 400, code: 'INVALID_REQUEST' });
    const fields = bad.body.fields.map((f: { field: string }) => f.field);
    expect(fields).toEqual(expect.arrayContaining(['role', 'task', 'surprise', 'retry.attempts']));
    expect(await call('GET', '/admin/agent-runs?limit=0')).toMatchObject({ status: 400, body: { fields: [{ field: 'limit' }] } });
    expect(await call('GET', '/admin/agent-runs/no-such-run')).toMatchObject({ status: 404, body: { code: 'UNKNOWN_RUN', fields: [{ field: 'runId' }] } });
  });

  it('manages roles: versions, diff, tools, export and import with memory blocks; every change audited', async () => {
    const v1 = await call('PUT', '/admin/roles/analyst', { name: 'Analyst', persona: 'You analyse.', model: 'tiny-decoder' });
    expect(v1).toMatchObject({ status: 200, body: { changed: true, role: { id: 'analyst', version: 1 } } });
    await call('PUT', '/admin/roles/analyst', { name: 'Analyst', persona: 'You analyse carefully.', model: 'tiny-decoder' });
    const enabled = await call('PUT', '/admin/roles/analyst/tools/calculator');
    expect(enabled.body.role).toMatchObject({ version: 3, tools: ['calculator'] });
    expect(await call('PUT', '/admin/roles/analyst/tools/no-such-tool')).toMatchObject({ status: 404, body: { code: 'UNKNOWN_TOOL' } });

    const versions = await call('GET', '/admin/roles/analyst/versions');
    expect(versions.body.map((r: { version: number }) => r.version)).toEqual(expect.arrayContaining([1, 2, 3]));
    const diff = await call('GET', '/admin/roles/analyst/diff?from=1&to=3');
    expect(diff.body.changes.map((c: { field: string }) => c.field)).toEqual(['persona', 'tools']);
    expect(diff.body.changes[0]).toEqual({ field: 'persona', from: 'You analyse.', to: 'You analyse carefully.' });
    expect((await call('GET', '/admin/roles/analyst?version=1')).body.persona).toBe('You analyse.');

    const exported = await call('GET', '/admin/roles/analyst/export');
    expect(exported.body).toMatchObject({ format: 'troupe.role/v1', id: 'analyst', role: { persona: 'You analyse carefully.', tools: ['calculator'] } });
    const file = { ...exported.body, id: 'analyst-copy', memoryBlocks: [{ name: 'notes', scope: 'role', text: 'Quarterly numbers are in.' }] };
    expect(await call('POST', '/admin/roles/import', file)).toMatchObject({ status: 201, body: { changed: true, memoryBlocks: 1, role: { id: 'analyst-copy' } } });
    const reexported = await call('GET', '/admin/roles/analyst-copy/export');
    expect(reexported.body.memoryBlocks).toEqual([{ name: 'notes', scope: 'role', text: 'Quarterly numbers are in.' }]);
    expect(reexported.body.role.persona).toBe('You analyse carefully.');

    expect((await call('DELETE', '/admin/roles/analyst-copy')).status).toBe(204);
    expect((await call('GET', '/admin/roles/analyst-copy')).status).toBe(404);

    const audit = await call('GET', '/admin/audit?limit=20');
    const actions = audit.body.items.map((e: { action: string; actor: string }) => `${e.actor} ${e.action}`);
    expect(actions).toEqual(expect.arrayContaining(['key:ops role.put', 'key:ops role.tool.enable', 'key:ops role.import', 'key:ops role.delete']));
    const put = audit.body.items.find((e: { action: string }) => e.action === 'role.tool.enable');
    expect(put.before).toMatch(/^[0-9a-f]{64}$/);
    expect(put.after).toMatch(/^[0-9a-f]{64}$/);
    expect(put.before).not.toBe(put.after);
  });

  it('runs agents: enqueue with an idempotency key, result stored, run listed, its session inspectable', async () => {
    const operator = { authorization: `Bearer ${await jwt('olga', ['operator'])}` };
    const first = await call('POST', '/admin/agent-runs', { role: 'helper', task: 'Say hello.', inputs: { name: 'Ada' }, idempotencyKey: 'hello-ada' }, operator);
    expect(first).toMatchObject({ status: 201, body: { duplicate: false, run: { role: 'helper', status: 'queued' } } });
    const again = await call('POST', '/admin/agent-runs', { role: 'helper', task: 'Say hello.', idempotencyKey: 'hello-ada' }, operator);
    expect(again.body).toMatchObject({ duplicate: true, run: { runId: first.body.run.runId } });

    const run = await waitForRun(first.body.run.runId, ['completed']);
    expect(run.result).toMatchObject({ runId: run.runId, reason: 'completed', sessionId: run.sessionId });
    expect(run.result.replies[0].roleId).toBe('helper');
    const listed = await call('GET', '/admin/agent-runs?status=completed&role=helper');
    expect(listed.body.items.map((r: { runId: string }) => r.runId)).toContain(run.runId);

    const events = await call('GET', `/admin/sessions/${run.sessionId}/events`);
    const types = events.body.items.map((e: { type: string }) => e.type);
    expect(types).toEqual(expect.arrayContaining(['reply.start', 'reply.done', 'turn.end', 'agent.run']));
    expect(types.filter((t: string) => t === 'agent.run')).toHaveLength(1);
    const history = await call('GET', `/admin/sessions/${run.sessionId}/history`);
    expect(history.body.entries[0].text).toContain('Task: Say hello.');
    expect(history.body.entries[0].text).toContain('- name: Ada');
    const sessions = await call('GET', '/admin/sessions?role=helper');
    expect(sessions.body.items.map((s: { id: string }) => s.id)).toContain(run.sessionId);
    expect((await call('DELETE', `/admin/sessions/${run.sessionId}`)).status).toBe(200);
    expect((await call('GET', `/admin/sessions/${run.sessionId}`)).status).toBe(404);
  });

  it('lists runs that failed for good as dead letters, with retry and discard', async () => {
    const { body } = await call('POST', '/admin/agent-runs', { role: 'no-such-role', task: 'x', retry: { attempts: 2, backoffMs: 10 } });
    const failed = await waitForRun(body.run.runId, ['failed']);
    expect(failed.error).toMatch(/NOT_FOUND|UNKNOWN_ROLE/);
    const dead = await call('GET', '/admin/agent-runs/dead-letters');
    const letter = dead.body.items.find((d: { runId: string }) => d.runId === body.run.runId);
    expect(letter).toMatchObject({ payload: { role: 'no-such-role' } });
    expect(letter.error).toMatch(/no-such-role/);

    expect((await call('POST', `/admin/agent-runs/${body.run.runId}/retry`)).status).toBe(200);
    await waitForRun(body.run.runId, ['failed']);
    expect((await call('GET', `/admin/agent-runs/${body.run.runId}`)).body.attempts).toBeGreaterThanOrEqual(2);
    expect((await call('DELETE', `/admin/agent-runs/dead-letters/${body.run.runId}`)).status).toBe(204);
    const after = await call('GET', '/admin/agent-runs/dead-letters');
    expect(after.body.items.map((d: { runId: string }) => d.runId)).not.toContain(body.run.runId);
    expect((await call('POST', `/admin/agent-runs/${body.run.runId}/retry`)).status).toBe(409);
  });

  it('cancels a running run on whichever worker holds it', async () => {
    stack.signal('inference', 'SIGSTOP');
    try {
      const { body } = await call('POST', '/admin/agent-runs', { role: 'long-talker', task: 'Talk.' });
      await waitForRun(body.run.runId, ['active']);
      expect((await call('POST', `/admin/agent-runs/${body.run.runId}/cancel`)).status).toBe(200);
      stack.signal('inference', 'SIGCONT');
      const run = await waitForRun(body.run.runId, ['cancelled']);
      expect(run.error).toMatch(/CANCELLED/);
      expect((await call('POST', `/admin/agent-runs/${body.run.runId}/cancel`)).status).toBe(409);
    } finally {
      stack.signal('inference', 'SIGCONT');
    }
  });

  it('runs on a cron schedule managed through the API', async () => {
    const put = await call('PUT', '/admin/agent-runs/schedules/every-second', { pattern: '* * * * * *', payload: { role: 'helper', task: 'Tick.' } });
    expect(put).toMatchObject({ status: 200, body: { id: 'every-second', pattern: '* * * * * *' } });
    expect((await call('PUT', '/admin/agent-runs/schedules/bad', { pattern: 'often', payload: { role: 'helper', task: 'x' } })).body.fields[0].field).toBe('pattern');
    await until(async () => {
      const runs = await call('GET', '/admin/agent-runs?status=completed&limit=100');
      return runs.body.items.some((r: { task: string }) => r.task === 'Tick.') ? true : undefined;
    }, 'a scheduled run');
    expect((await call('GET', '/admin/agent-runs/schedules')).body.map((s: { id: string }) => s.id)).toContain('every-second');
    expect((await call('DELETE', '/admin/agent-runs/schedules/every-second')).status).toBe(204);
    expect((await call('DELETE', '/admin/agent-runs/schedules/every-second')).status).toBe(404);
  });

  it('serves queue counts, models, tools, cache stats and the OpenAPI document', async () => {
    const queues = await call('GET', '/admin/queues/counts');
    expect(queues.body['agent-runs']).toMatchObject({ completed: expect.any(Number), failed: expect.any(Number) });
    const models = (await call('GET', '/admin/models')).body;
    expect(models.models.map((m: { name: string }) => m.name)).toContain('tiny-decoder');
    // One instance: its own listing is the whole one.
    expect(models.instances).toEqual([{ instance: expect.any(String), address: stack.grpcAddress('inference'), result: models.models }]);
    // Unload and load a model through the admin API, without a restart.
    const unloaded = await call('POST', '/admin/models/tiny-embedder/unload');
    expect(unloaded).toMatchObject({ status: 200, body: { model: { name: 'tiny-embedder', status: 'unloaded' } } });
    const loaded = await call('POST', '/admin/models/tiny-embedder/load');
    expect(loaded).toMatchObject({ status: 200, body: { model: { name: 'tiny-embedder', status: 'ready' } } });
    expect((await call('POST', '/admin/models/no-such-model/reload')).status).toBe(404);
    expect((await call('POST', '/admin/models/tiny-embedder/explode')).body).toMatchObject({ code: expect.any(String) });
    expect((await call('GET', '/admin/audit')).body.items[0]).toMatchObject({ action: 'model.load', target: 'tiny-embedder' });
    expect((await call('GET', '/admin/tools?role=helper')).body.tools.map((t: { name: string }) => t.name)).toContain('calculator');
    expect((await call('GET', '/admin/cache-stats')).body.classes.length).toBeGreaterThan(0);
    const doc = await call('GET', '/docs-json', undefined, {});
    expect(Object.keys(doc.body.paths)).toEqual(expect.arrayContaining(['/admin/agent-runs', '/admin/roles/{id}/diff', '/admin/queues/counts']));
    expect(doc.body.components.schemas.EnqueueRunDto.properties.role).toBeDefined();
    expect((await fetch(`${stack.sessionUrl}/docs`)).status).toBe(200);
  });

  it('serves Bull Board at /admin/queues behind the same auth', async () => {
    expect((await fetch(`${stack.sessionUrl}/admin/queues`)).status).toBe(401);
    const page = await fetch(`${stack.sessionUrl}/admin/queues`, { headers: { 'x-api-key': VIEWER_KEY } });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<html');
    const api = await call('GET', '/admin/queues/api/queues', undefined, { 'x-api-key': VIEWER_KEY });
    expect(api.body.queues.map((q: { name: string }) => q.name)).toEqual(expect.arrayContaining(['agent-runs', 'agent-webhooks']));
    const act = await call('PUT', '/admin/queues/api/queues/agent-runs/pause', undefined, { 'x-api-key': VIEWER_KEY });
    expect(act).toMatchObject({ status: 403, body: { code: 'FORBIDDEN' } });
  });
});
