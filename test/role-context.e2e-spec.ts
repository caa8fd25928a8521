import { roleContext } from '@troupe/contracts';
import { GrpcCallError, GrpcClient } from '@troupe/grpc';
import { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import Redis from 'ioredis';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRolesDir } from './support/roles-fixture';
import { TEST_REDIS_URL } from './support/redis-cleanup';
import { ServiceProcess, testPrefix } from './support/service-process';
import { REPO_ROOT, mainOf } from './support/service-stack';

jest.setTimeout(90_000);

const scribe = {
  id: 'scribe',
  name: 'Scribe',
  persona: 'You are {{role_name}}, scribe of {{team}}. Goals: {{goals}}. Style: {{style}}.',
  goals: ['keep notes', 'be exact'],
  style: 'terse',
  variables: { team: 'the guild' },
  model: 'tiny-decoder',
  contextTokenBudget: 200,
  memory: { blockLimitChars: 60, sharedBlocks: ['team-notes'], recallTopK: 2 },
};
const archivist = {
  id: 'archivist',
  name: 'Archivist',
  persona: 'You are the Archivist.',
  model: 'tiny-decoder',
  memory: { sharedBlocks: ['team-notes'] },
};

let seq = 0;
const session = () => `s${Date.now().toString(36)}${seq++}`;
const entry = (speakerKind: string, speaker: string, text: string) => ({ speakerKind, speaker, text, tokenCount: 0, turnId: '', id: '', createdAt: '', toolCallsJson: '' });

async function code(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (e) {
    return `${GrpcStatusName(e as GrpcCallError)}: ${(e as GrpcCallError).details}`;
  }
  return 'OK';
}
const GrpcStatusName = (e: GrpcCallError) => e.message.split(': ')[1];

/**
 * The role-context service as a process against the real Redis, with the real inference
 * service beside it (whose Embed still answers UNIMPLEMENTED: recall must fall back).
 */
describe('role-context service', () => {
  const { prefix, cleanup } = testPrefix();
  const roles = makeRolesDir({ 'scribe.json': scribe, 'archivist.json': archivist });
  let inference: ServiceProcess;
  let service: ServiceProcess;
  let grpc: GrpcClient;
  const call = <T>(method: string, request: unknown): Promise<T> => grpc.unary(method, request);
  const assemble = (request: Partial<roleContext.AssembleContextRequest>) => call<roleContext.AssembleContextResponse>('assembleContext', request);

  const chatModelOnly = (() => {
    const dir = mkdtempSync(join(tmpdir(), 'troupe-models-'));
    cpSync(join(REPO_ROOT, 'models', 'tiny-decoder'), join(dir, 'tiny-decoder'), { recursive: true });
    return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
  })();

  beforeAll(async () => {
    // An inference service with the chat model only: Embed answers NOT_FOUND, so recall falls back.
    inference = await ServiceProcess.start('inference', { REDIS_KEY_PREFIX: prefix, MODELS_DIR: chatModelOnly.dir });
    service = await ServiceProcess.start('role-context', {
      REDIS_KEY_PREFIX: prefix,
      ROLES_DIR: roles.dir,
      INFERENCE_ADDRESS: inference.grpcAddress,
      HISTORY_MAX_ENTRIES: '8',
      HISTORY_COMPACTION_BATCH: '4',
    });
    grpc = service.roleContextClient();
  });

  afterAll(async () => {
    grpc?.close();
    await service?.stop();
    await inference?.stop();
    await cleanup();
    roles.remove();
    chatModelOnly.remove();
  });

  it('versions every change, serves any version, and keeps versions after a delete', async () => {
    const v1 = { id: 'ephemeral', name: 'Ephemeral', persona: 'First persona.', model: 'tiny-decoder' };
    const put1 = await call<roleContext.PutRoleResponse>('putRole', { definitionJson: JSON.stringify(v1) });
    expect(put1).toMatchObject({ changed: true, role: { id: 'ephemeral', version: 1, cacheClass: 'persona', contextTokenBudget: 2048 } });
    const same = await call<roleContext.PutRoleResponse>('putRole', { definitionJson: JSON.stringify(v1) });
    expect(same).toMatchObject({ changed: false, role: { version: 1 } });
    const put2 = await call<roleContext.PutRoleResponse>('putRole', { definitionJson: JSON.stringify({ ...v1, persona: 'Second persona.' }) });
    expect(put2).toMatchObject({ changed: true, role: { version: 2, persona: 'Second persona.' } });

    expect((await call<roleContext.GetRoleResponse>('getRole', { id: 'ephemeral' })).role).toMatchObject({ version: 2 });
    expect((await call<roleContext.GetRoleResponse>('getRole', { id: 'ephemeral', version: 1 })).role).toMatchObject({ persona: 'First persona.' });
    const versions = await call<roleContext.ListRoleVersionsResponse>('listRoleVersions', { id: 'ephemeral' });
    expect(versions.versions.map((r) => [r.version, r.persona])).toEqual([
      [1, 'First persona.'],
      [2, 'Second persona.'],
    ]);

    expect(await call('deleteRole', { id: 'ephemeral' })).toEqual({ deleted: true });
    expect(await call('deleteRole', { id: 'ephemeral' })).toEqual({ deleted: false });
    expect(await code(call('getRole', { id: 'ephemeral' }))).toMatch(/^NOT_FOUND/);
    expect((await call<roleContext.ListRolesResponse>('listRoles', {})).roles.map((r) => r.id)).not.toContain('ephemeral');
    expect((await call<roleContext.GetRoleResponse>('getRole', { id: 'ephemeral', version: 2 })).role).toMatchObject({ version: 2 });
    // Putting it again continues the numbering: a version number never means two definitions.
    expect(await call('putRole', { definitionJson: JSON.stringify(v1) })).toMatchObject({ changed: true, role: { version: 3 } });
  });

  it('rejects bad definitions and requests, naming the field', async () => {
    const base = { id: 'bad', name: 'Bad', persona: 'p', model: 'tiny-decoder' };
    expect(await code(call('putRole', { definitionJson: '{nope' }))).toMatch(/^INVALID_ARGUMENT: definitionJson: not JSON/);
    expect(await code(call('putRole', { definitionJson: JSON.stringify({ ...base, generation: { temperature: 9 } }) }))).toMatch(
      /INVALID_ARGUMENT: .*generation\.temperature/,
    );
    expect(await code(call('putRole', { definitionJson: JSON.stringify({ ...base, persona: 'Hi {{who}}' }) }))).toMatch(/persona: uses \{\{who\}\}/);
    expect(await code(call('putRole', { definitionJson: JSON.stringify({ ...base, cacheClass: 'nope' }) }))).toMatch(/cacheClass: "nope"/);
    expect(await code(call('putRole', { definitionJson: JSON.stringify({ ...base, memory: { recallTopK: 99 } }) }))).toMatch(/memory\.recallTopK/);
    expect(await code(assemble({ sessionId: 'bad session!', roleId: 'scribe' }))).toMatch(/INVALID_ARGUMENT: sessionId/);
    expect(await code(assemble({ sessionId: session(), roleId: 'scribe', variables: { nope: 'x' } }))).toMatch(/INVALID_ARGUMENT: variables\.nope/);
    expect(await code(assemble({ sessionId: session(), roleId: 'ghost' }))).toMatch(/^NOT_FOUND/);
    expect(await code(call('appendHistory', { sessionId: 's', entry: { ...entry('person', 'a', 'x'), toolCallsJson: '{oops' } }))).toMatch(
      /INVALID_ARGUMENT: entry\.toolCallsJson/,
    );
    expect((await fetch(`${service.httpUrl}/health`)).status).toBe(200);
  });

  it('pins a session to the role version it started with unless told to follow the latest', async () => {
    const def = { id: 'pinned', name: 'Pinned', persona: 'Persona one.', model: 'tiny-decoder' };
    await call('putRole', { definitionJson: JSON.stringify(def) });
    const s = session();
    expect((await assemble({ sessionId: s, roleId: 'pinned' })).messages[0].content).toBe('Persona one.');
    await call('putRole', { definitionJson: JSON.stringify({ ...def, persona: 'Persona two.' }) });
    const pinned = await assemble({ sessionId: s, roleId: 'pinned' });
    expect(pinned.role).toMatchObject({ version: 1 });
    expect(pinned.messages[0].content).toBe('Persona one.');
    expect((await assemble({ sessionId: s, roleId: 'pinned', followLatest: true })).messages[0].content).toBe('Persona two.');
    expect((await assemble({ sessionId: session(), roleId: 'pinned' })).role).toMatchObject({ version: 2 });
    // An explicit version re-pins the session.
    await assemble({ sessionId: s, roleId: 'pinned', roleVersion: 2 });
    expect((await assemble({ sessionId: s, roleId: 'pinned' })).messages[0].content).toBe('Persona two.');
    expect(await code(assemble({ sessionId: s, roleId: 'pinned', roleVersion: 9 }))).toMatch(/^NOT_FOUND/);
  });

  it('fits persona and the newest turns into the budget, counted with the model tokenizer, speakers by name', async () => {
    const s = session();
    for (let i = 0; i < 10; i++) {
      const speaker = i % 3 === 0 ? ['person', 'ada'] : i % 3 === 1 ? ['role', 'scribe'] : ['role', 'archivist'];
      await call('appendHistory', { sessionId: s, entry: entry(speaker[0], speaker[1], `Turn ${i}: the harbour lights ${'are bright '.repeat(2)}tonight.`) });
    }
    const context = await assemble({ sessionId: s, roleId: 'scribe', variables: { team: 'the harbour' } });
    expect(context.messages[0]).toEqual({
      role: 'system',
      name: 'Scribe',
      content: 'You are Scribe, scribe of the harbour. Goals: keep notes; be exact. Style: terse.',
    });
    expect(context.tokenizer).toBe('model:tiny-decoder');
    expect(context.tokenBudget).toBe(200);
    expect(context.historyEntries).toBeGreaterThan(1);
    expect(context.historyEntries).toBeLessThan(10);
    const turns = context.messages.slice(1);
    expect(turns).toHaveLength(context.historyEntries);
    expect(turns[turns.length - 1].content).toMatch(/^Turn 9:/);
    expect(turns.find((m) => m.content.startsWith('Turn 8'))).toMatchObject({ role: 'user', name: 'archivist' });
    expect(turns.find((m) => m.content.startsWith('Turn 7'))).toMatchObject({ role: 'assistant', name: 'Scribe' });

    // The count is exactly what the model's chat layout costs with the model's own tokenizer.
    const tokenizer = ByteLevelBpeTokenizer.fromFile(join(REPO_ROOT, 'models', 'tiny-decoder', 'tokenizer.json'));
    const cost = (m: roleContext.ContextMessage) =>
      tokenizer.encode(`<|${m.role}|>\n`).length + tokenizer.encode(`${m.name}: ${m.content}`, { parseSpecialTokens: false }).length + tokenizer.encode('<|end|>\n').length;
    const expected = context.messages.reduce((n, m) => n + cost(m), tokenizer.encode('<|assistant|>\n').length);
    expect(context.tokenCount).toBe(expected);
    expect(context.tokenCount).toBeLessThanOrEqual(200);
    // One more turn would not have fitted.
    const next = `Turn ${9 - context.historyEntries}`;
    expect(context.messages.some((m) => m.content.startsWith(next))).toBe(false);
  });

  it("appends a turn's opening message and assembles its context in one call, and writes nothing it refuses", async () => {
    const s = session();
    await call('appendHistory', { sessionId: s, entry: entry('person', 'ada', 'First question.') });
    // A warm window first: the append must drop it.
    expect((await assemble({ sessionId: s, roleId: 'scribe', variables: { team: 'the harbour' } })).messages.map((m) => m.content)).toContain('First question.');
    const both = await assemble({ sessionId: s, roleId: 'scribe', variables: { team: 'the harbour' }, append: entry('person', 'ada', 'Second question.') });
    expect(both.appendedId).toMatch(/^\d+-\d+$/);
    expect(both.cached).toBe(false);
    expect(both.messages.slice(-2).map((m) => m.content)).toEqual(['First question.', 'Second question.']);
    // The next plain request is served the window that includes it, from the cache.
    const again = await assemble({ sessionId: s, roleId: 'scribe', variables: { team: 'the harbour' } });
    expect(again).toMatchObject({ cached: true, appendedId: '' });
    expect(again.messages.slice(-1)[0].content).toBe('Second question.');
    const history = async () => (await call<roleContext.GetHistoryResponse>('getHistory', { sessionId: s, limit: 0 })).entries;
    expect((await history()).map((e) => [e.id, e.text])).toEqual([
      [expect.any(String), 'First question.'],
      [both.appendedId, 'Second question.'],
    ]);

    // Refused before anything is written: an unknown role, an undeclared variable, a bad entry.
    expect(await code(assemble({ sessionId: s, roleId: 'nobody', append: entry('person', 'ada', 'Lost?') }))).toMatch(/^NOT_FOUND/);
    expect(await code(assemble({ sessionId: s, roleId: 'scribe', variables: { nope: 'x' }, append: entry('person', 'ada', 'Lost?') }))).toMatch(/^INVALID_ARGUMENT: variables\.nope/);
    expect(await code(assemble({ sessionId: s, roleId: 'scribe', append: { ...entry('person', 'ada', 'Lost?'), speakerKind: 'robot' } }))).toMatch(/^INVALID_ARGUMENT: append\.speakerKind/);
    expect(await history()).toHaveLength(2);
  });

  it('folds turns beyond the retention bound into a rolling summary the context shows', async () => {
    const s = session();
    for (let i = 0; i < 12; i++) await call('appendHistory', { sessionId: s, entry: entry('person', 'ada', `Fact ${i} is kept. Detail ${i} is not.`) });
    const history = await call<roleContext.GetHistoryResponse>('getHistory', { sessionId: s, limit: 0 });
    expect(history.entries.map((e) => e.text)).toEqual(Array.from({ length: 8 }, (_, i) => `Fact ${i + 4} is kept. Detail ${i + 4} is not.`));
    expect(history.summary).toBe(['ada: Fact 0 is kept.', 'ada: Fact 1 is kept.', 'ada: Fact 2 is kept.', 'ada: Fact 3 is kept.'].join('\n'));
    const context = await assemble({ sessionId: s, roleId: 'archivist' });
    expect(context.summaryIncluded).toBe(true);
    expect(context.messages[1]).toEqual({ role: 'system', name: 'summary', content: `Summary of the earlier conversation:\n${history.summary}` });
  });

  it("expires a session's history, summary, window marks and role pins together, a TTL after its latest turn", async () => {
    const s = session();
    for (let i = 0; i < 12; i++) await call('appendHistory', { sessionId: s, entry: entry('person', 'ada', `Fact ${i} is kept.`) });
    await assemble({ sessionId: s, roleId: 'archivist' }); // pins the role, marks its window
    const redis = new Redis(TEST_REDIS_URL, { keyPrefix: prefix });
    try {
      const keys = ['history', 'summary', 'window-starts', 'pins'].map((k) => `session:${s}:${k}`);
      const ttls = await Promise.all(keys.map((k) => redis.pttl(k)));
      const week = 7 * 24 * 3600 * 1000; // HISTORY_TTL_SECONDS's default
      // -1 would be a key kept forever, -2 a key that is missing.
      for (const ttl of ttls) expect(ttl).toBeGreaterThan(week - 60_000);
      for (const ttl of ttls) expect(ttl).toBeLessThanOrEqual(week);
    } finally {
      redis.disconnect();
    }
  });

  it('folds the turns that no window of any role shows any more into the summary', async () => {
    const wide = { id: 'wide', name: 'Wide', persona: 'You are Wide.', model: 'tiny-decoder', contextTokenBudget: 2048 };
    await call('putRole', { definitionJson: JSON.stringify(wide) });
    const s = session();
    const text = (i: number) => `Point ${i} matters. ${'Filler words go here. '.repeat(3).trim()}`;
    for (let i = 0; i < 10; i++) await call('appendHistory', { sessionId: s, entry: entry('person', 'ada', text(i)) });
    const history = () => call<roleContext.GetHistoryResponse>('getHistory', { sessionId: s, limit: 0 });

    // Wide shows all ten turns; the scribe's 200-token window hides most of them, but nothing
    // is folded while another role's window still shows them.
    expect((await assemble({ sessionId: s, roleId: 'wide' })).historyEntries).toBe(10);
    const scribeWindow = await assemble({ sessionId: s, roleId: 'scribe' });
    expect(scribeWindow.historyEntries).toBeLessThanOrEqual(6);
    expect((await history()).summary).toBe('');
    expect((await history()).entries).toHaveLength(10);

    // Wide's next version has a small window too: now the turns both hide are folded.
    await call('putRole', { definitionJson: JSON.stringify({ ...wide, contextTokenBudget: 120 }) });
    const narrowWide = await assemble({ sessionId: s, roleId: 'wide', followLatest: true });
    expect(narrowWide.historyEntries).toBeLessThanOrEqual(6);
    const kept = Math.max(scribeWindow.historyEntries, narrowWide.historyEntries);
    const after = await history();
    expect(after.entries.map((e) => e.text)).toEqual(Array.from({ length: kept }, (_, i) => text(10 - kept + i)));
    expect(after.summary).toBe(Array.from({ length: 10 - kept }, (_, i) => `ada: Point ${i} matters.`).join('\n'));
    // Every cached window of the session was dropped: the next one (the session is still pinned
    // to Wide's first, wide version) carries the summary, then the turns that are left.
    const again = await assemble({ sessionId: s, roleId: 'wide' });
    expect(again.cached).toBe(false);
    expect(again.summaryIncluded).toBe(true);
    expect(again.messages[1]).toEqual({ role: 'system', name: 'summary', content: `Summary of the earlier conversation:\n${after.summary}` });
    expect(again.historyEntries).toBe(kept);
  });

  it('keeps memory blocks within their limit on every write path and shows edits to every sharing role', async () => {
    const put = (request: Partial<roleContext.PutMemoryBlockRequest>) => call<roleContext.PutMemoryBlockResponse>('putMemoryBlock', request);
    const s = session();
    await call('appendHistory', { sessionId: s, entry: entry('person', 'ada', 'Hello.') });
    const fresh = await assemble({ sessionId: s, roleId: 'archivist' });
    expect(fresh.cached).toBe(false);
    // A hit is sent as the bytes encoded on the first hit: the same answer each time, flagged cached.
    const [hit, again] = [await assemble({ sessionId: s, roleId: 'archivist' }), await assemble({ sessionId: s, roleId: 'archivist' })];
    expect(hit).toEqual({ ...fresh, cached: true });
    expect(again).toEqual(hit);

    const first = await put({ roleId: 'scribe', name: 'team-notes', text: 'Ship sails at dawn.' });
    expect(first.block).toMatchObject({ name: 'team-notes', scope: 'shared', version: 1, limit: 60 });
    // The archivist lists the same shared block: its next context shows the scribe's edit.
    const seen = await assemble({ sessionId: s, roleId: 'archivist' });
    expect(seen.cached).toBe(false);
    expect(seen.messages[1]).toEqual({ role: 'system', name: 'memory', content: 'Memory blocks:\n[team-notes] (shared)\nShip sails at dawn.' });
    await put({ roleId: 'archivist', name: 'team-notes', text: 'Crew: 12.', mode: 'append', expectedVersion: 1 });
    expect((await assemble({ sessionId: s, roleId: 'archivist' })).messages[1].content).toContain('Ship sails at dawn.\nCrew: 12.');

    // Version check, then the limit on replace and on append (60 code points; "é" is one).
    expect(await code(put({ roleId: 'scribe', name: 'team-notes', text: 'x', expectedVersion: 1 }))).toMatch(/^ABORTED: expectedVersion: .* version 2/);
    expect(await code(put({ roleId: 'scribe', name: 'team-notes', text: 'é'.repeat(61) }))).toMatch(/^FAILED_PRECONDITION: text: .*61 characters; its limit is 60/);
    expect((await put({ roleId: 'scribe', name: 'team-notes', text: 'é'.repeat(60) })).block).toMatchObject({ version: 3 });
    expect(await code(put({ roleId: 'scribe', name: 'team-notes', text: 'more', mode: 'append' }))).toMatch(/^FAILED_PRECONDITION/);
    // Concurrent appends cannot push a block over its limit either.
    await put({ roleId: 'scribe', name: 'log', text: '' });
    const appends = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => put({ roleId: 'scribe', name: 'log', text: `entry ${i}`, mode: 'append' })));
    const log = await call<roleContext.GetMemoryBlockResponse>('getMemoryBlock', { roleId: 'scribe', name: 'log' });
    expect([...log.block!.text].length).toBeLessThanOrEqual(60);
    expect(log.block!.version).toBe(1 + appends.filter((a) => a.status === 'fulfilled').length);
    expect(appends.some((a) => a.status === 'rejected')).toBe(true);

    // Per-person blocks, and a shared block the role does not list.
    await put({ roleId: 'scribe', userId: 'ada', name: 'prefs', text: 'Likes maps.' });
    const list = await call<roleContext.ListMemoryBlocksResponse>('listMemoryBlocks', { roleId: 'scribe', userId: 'ada' });
    expect(list.blocks.map((b) => `${b.scope}/${b.name}`)).toEqual(['role/log', 'user/prefs', 'shared/team-notes']);
    expect((await call<roleContext.ListMemoryBlocksResponse>('listMemoryBlocks', { roleId: 'scribe', userId: 'bob' })).blocks.map((b) => b.name)).not.toContain('prefs');
    expect(await code(put({ roleId: 'archivist', name: 'secret', scope: 'shared', text: 'x' }))).toMatch(/^PERMISSION_DENIED: name:/);
    expect(await code(put({ roleId: 'scribe', name: 'prefs', scope: 'user', text: 'x' }))).toMatch(/^INVALID_ARGUMENT: userId/);
    expect(await code(call('getMemoryBlock', { roleId: 'scribe', name: 'nothing' }))).toMatch(/^NOT_FOUND/);
  });

  it('recalls facts by keyword when the inference service cannot embed, and says so', async () => {
    const remembered = await call<roleContext.RememberFactResponse>('rememberFact', { roleId: 'scribe', userId: 'ada', text: 'Ada keeps two cats named Miso and Tofu.' });
    expect(remembered.embedded).toBe(false);
    await call('rememberFact', { roleId: 'scribe', userId: 'ada', text: 'Ada lives in Porto.' });
    await call('rememberFact', { roleId: 'scribe', text: 'The guild meets on Fridays.' });
    const found = await call<roleContext.RecallFactsResponse>('recallFacts', { roleId: 'scribe', userId: 'ada', query: 'What are the cats called?' });
    expect(found.mode).toBe('keyword');
    expect(found.facts.map((f) => f.text)).toEqual(['Ada keeps two cats named Miso and Tofu.']);

    const s = session();
    await call('appendHistory', { sessionId: s, entry: entry('person', 'ada', 'When does the guild meet?') });
    const context = await assemble({ sessionId: s, roleId: 'scribe', userId: 'ada' });
    expect(context.recallMode).toBe('keyword');
    expect(context.messages).toContainEqual({ role: 'system', name: 'recall', content: 'Facts you remember:\n- The guild meets on Fridays.' });
    // It asked the real inference service, which serves no embedding model here (NOT_FOUND, status 5).
    expect(service.output.some((l) => l.includes('Embed unavailable') && l.includes('"problem":"5: '))).toBe(true);
  });

  it('reports hits, misses, evictions and bytes per cache class over gRPC and on /metrics', async () => {
    const s = session();
    await assemble({ sessionId: s, roleId: 'archivist' });
    await assemble({ sessionId: s, roleId: 'archivist' });
    const { classes } = await call<roleContext.GetCacheStatsResponse>('getCacheStats', {});
    expect(classes.map((c) => c.name)).toEqual(['persona', 'window', 'audit']);
    const window = classes.find((c) => c.name === 'window')!;
    expect(Number(window.hits)).toBeGreaterThan(0);
    expect(Number(window.misses)).toBeGreaterThan(0);
    expect(Number(window.bytes)).toBeGreaterThan(0);
    expect(Number(window.maxBytes)).toBe(64 * 1024 * 1024);
    const metrics = await (await fetch(`${service.httpUrl}/metrics`)).text();
    expect(metrics).toMatch(/troupe_cache_hits_total\{[^}]*class="window"[^}]*\} [1-9]/);
    expect(metrics).toMatch(/troupe_cache_bytes\{[^}]*class="persona"[^}]*\} [1-9]/);
    expect(metrics).toContain('troupe_cache_evictions_total');
  });

  it.each([
    ['CACHE_CLASSES', '[{"name":"persona","ttlMs":1000,"expiry":"forever","maxBytes":4096,"eviction":"lru"}]', /CACHE_CLASSES=.*\[0\]\.expiry/],
    ['WINDOW_CACHE_CLASS', 'nope', /WINDOW_CACHE_CLASS="nope": must name a class declared in CACHE_CLASSES/],
    ['CACHES_ENABLED', 'maybe', /CACHES_ENABLED/],
  ])('refuses to start with a bad %s and names it', (variable, value, message) => {
    const result = spawnSync(process.execPath, [mainOf('role-context')], { env: { PATH: process.env.PATH ?? '', [variable]: value }, encoding: 'utf8', timeout: 20_000 });
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(message);
  });
});
