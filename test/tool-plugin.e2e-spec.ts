import { TOOL_PLUGIN_CONTRACT, toolPlugin } from '@troupe/contracts';
import { GrpcCallError, GrpcClient, GrpcStatus } from '@troupe/grpc';
import Redis from 'ioredis';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeRolesDir } from './support/roles-fixture';
import { TEST_REDIS_URL } from './support/redis-cleanup';
import { REPO_ROOT, ServiceStack } from './support/service-stack';

jest.setTimeout(120_000);

const role = (id: string, tools: string[]) => ({ id, name: id, persona: `You are ${id}.`, model: 'tiny-decoder', tools });

/**
 * The tool-plugin service as a process: grants from the real role-context process (roles
 * seeded from a folder), sandboxed plugins from a watched folder, an MCP server over stdio,
 * and the audit stream in the real Redis.
 */
describe('tool-plugin service: grants, sandboxed plugins, MCP, audit', () => {
  let stack: ServiceStack;
  let roles: ReturnType<typeof makeRolesDir>;
  let tools: GrpcClient;
  let redis: Redis;
  let work: string;

  const list = (roleId: string, sessionId = '', turnId = ''): Promise<toolPlugin.ListToolsResponse> =>
    tools.unary('listTools', { roleId, sessionId, turnId });
  const invoke = (tool: string, args: object, roleId = 'tinkerer', extra: Partial<toolPlugin.InvokeToolRequest> = {}): Promise<toolPlugin.InvokeToolResponse> =>
    tools.unary('invokeTool', { callId: `call-${tool}`, tool, argumentsJson: JSON.stringify(args), roleId, sessionId: 'sess-1', turnId: 'turn-1', ...extra }, { deadlineMs: 15_000 });
  const names = (res: toolPlugin.ListToolsResponse) => res.tools.map((t) => t.name).sort();

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'troupe-tools-e2e-'));
    const plugins = join(work, 'plugins');
    cpSync(join(REPO_ROOT, 'plugins', 'text-tools'), join(plugins, 'text-tools'), { recursive: true });
    cpSync(join(REPO_ROOT, 'test', 'fixtures', 'plugins', 'misbehaving'), join(plugins, 'misbehaving'), { recursive: true });
    cpSync(join(REPO_ROOT, 'test', 'fixtures', 'plugins', 'broken'), join(plugins, 'broken'), { recursive: true });
    mkdirSync(join(work, 'documents', 'tinkerer'), { recursive: true });
    writeFileSync(join(work, 'documents', 'tinkerer', 'manual.md'), '# Boiler\n\nBleed the radiator twice a year.\n\nThe boiler pressure should read 1.5 bar.');
    roles = makeRolesDir({
      'tinkerer.json': role('tinkerer', ['calculator', 'datetime', 'search_documents', 'handoff', 'plugin:text-tools', 'plugin:misbehaving', 'mcp:echo', 'approve_me']),
      'collector.json': role('collector', ['*']),
    });
    stack = await ServiceStack.start({
      rolesDir: roles.dir,
      env: {
        'tool-plugin': {
          PLUGINS_DIR: plugins,
          PLUGIN_SCAN_INTERVAL_MS: '300',
          DOCUMENTS_DIR: join(work, 'documents'),
          PLUGIN_SECRETS: JSON.stringify({ GRANTED_SECRET: 'shh', DATABASE_PASSWORD: 'never-for-plugins' }),
          // tinkerer is granted 21 tools besides handoff; collector ("*") more.
          TOOL_FIND_THRESHOLD: '21',
          ROLE_GRANTS_CACHE_MS: '0',
          MCP_SERVERS: JSON.stringify([{ name: 'echo', command: process.execPath, args: [join(REPO_ROOT, 'test', 'fixtures', 'mcp-echo-server.js')], timeoutMs: 1000 }]),
          // A variable of the service itself, which neither plugins nor MCP servers may see.
          SERVICE_ONLY_SECRET: 'top-secret',
        },
      },
    });
    await stack.waitReady('tool-plugin', 30_000);
    tools = new GrpcClient(TOOL_PLUGIN_CONTRACT, stack.grpcAddress('tool-plugin'), 5000);
    redis = new Redis(TEST_REDIS_URL);
  });

  afterAll(async () => {
    tools?.close();
    redis?.disconnect();
    await stack?.stop();
    roles?.remove();
    rmSync(work, { recursive: true, force: true });
  });

  it('lists only the tools the role is granted (from role-context), with hints and sources', async () => {
    const res = await list('tinkerer');
    expect(names(res)).toEqual(
      [
        'allocate', 'calculator', 'datetime', 'echo', 'echo__add', 'echo__echo', 'echo__env', 'echo__fail', 'echo__sleep', 'exit_process', 'handoff',
        'huge_result', 'loop_after_await', 'loop_forever', 'never_settles', 'read_env', 'search_documents', 'slugify', 'throws', 'word_count', 'wrong_result',
      ].sort(),
    );
    const wordCount = res.tools.find((t) => t.name === 'word_count')!;
    expect(wordCount).toMatchObject({ source: 'plugin:text-tools', timeoutMs: 1000, annotations: { readOnlyHint: true, idempotentHint: true } });
    expect(JSON.parse(wordCount.parametersSchemaJson)).toMatchObject({ type: 'object', required: ['text'] });
    expect(res.tools.find((t) => t.name === 'echo__echo')).toMatchObject({ source: 'mcp:echo', annotations: { readOnlyHint: true } });
    expect(res.tools.find((t) => t.name === 'echo__fail')).toMatchObject({ annotations: { destructiveHint: true } });
    expect(names(await list('critic'))).toEqual([]);
    expect(names(await list('helper'))).toEqual(['calculator']);
  });

  it('refuses a tool the role is not granted with PERMISSION_DENIED naming it, and an unknown role with NOT_FOUND', async () => {
    const denied = await invoke('word_count', { text: 'a b' }, 'helper').catch((e) => e);
    expect(denied).toBeInstanceOf(GrpcCallError);
    expect(denied).toMatchObject({ code: GrpcStatus.PERMISSION_DENIED, details: 'tool "word_count" is not granted to role "helper"' });
    expect(await list('nobody').catch((e) => e)).toMatchObject({ code: GrpcStatus.NOT_FOUND });
    expect(await invoke('calculator', { expression: '1' }, 'Bad Role!').catch((e) => e)).toMatchObject({ code: GrpcStatus.INVALID_ARGUMENT, details: expect.stringContaining('roleId') });
  });

  it('runs plugin tools in the sandbox and keeps serving while misbehaving tools are stopped', async () => {
    const runaway = Promise.all([invoke('loop_forever', {}), invoke('allocate', {}), invoke('never_settles', {})]);
    const meanwhile = await invoke('word_count', { text: 'the service goes on' });
    expect(meanwhile).toMatchObject({ ok: true });
    expect(JSON.parse(meanwhile.resultJson)).toEqual({ words: 4, characters: 19 });
    const [loop, alloc, never] = await runaway;
    expect(loop).toMatchObject({ ok: false, error: expect.stringMatching(/^TIMEOUT: /) });
    expect(alloc).toMatchObject({ ok: false, error: expect.stringMatching(/^OUT_OF_MEMORY: /) });
    expect(never).toMatchObject({ ok: false, error: expect.stringMatching(/^TIMEOUT: /) });
    expect(await invoke('throws', {})).toMatchObject({ ok: false, error: expect.stringContaining('boom from the plugin') });
    expect(await invoke('exit_process', {})).toMatchObject({ ok: false, error: expect.stringContaining('process is not defined') });
    expect(await invoke('huge_result', {})).toMatchObject({ ok: false, error: expect.stringMatching(/^RESULT_TOO_LARGE: /) });
    const env = await invoke('read_env', {});
    expect(JSON.parse(env.resultJson)).toMatchObject({ granted: { GRANTED_SECRET: 'shh' }, hasProcess: false });
    expect(await invoke('slugify', { title: 42 })).toMatchObject({ ok: false, error: expect.stringContaining('title: must be string') });
    expect(await invoke('echo', { text: 'after all that' })).toMatchObject({ ok: true });
  });

  it('fails the calls in flight when a plugin host process dies, restarts it, and serves again', async () => {
    const status = async () =>
      ((await (await fetch(`${stack.httpUrl('tool-plugin')}/plugins`)).json()) as { plugins: { folder: string; pid?: number; state: string }[] }).plugins.find(
        (p) => p.folder === 'misbehaving',
      )!;
    const { pid } = await status();
    const inFlight = invoke('never_settles', {});
    await new Promise((r) => setTimeout(r, 100));
    process.kill(pid!, 'SIGKILL');
    expect(await inFlight).toMatchObject({ ok: false, error: expect.stringMatching(/^SANDBOX_CRASHED: /) });
    const deadline = Date.now() + 20_000;
    let after = await status();
    while ((after.state !== 'loaded' || after.pid === pid) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      after = await status();
    }
    expect(after).toMatchObject({ state: 'loaded' });
    expect(await invoke('echo', { text: 'back' })).toMatchObject({ ok: true });
    expect(stack.output('tool-plugin').some((l) => l.includes('plugin host crashed'))).toBe(true);
  });

  it('reports the broken plugin over HTTP while the others serve, and picks up a new plugin', async () => {
    const res = (await (await fetch(`${stack.httpUrl('tool-plugin')}/plugins`)).json()) as { plugins: { folder: string }[]; mcpServers: unknown[] };
    expect(res.plugins.find((p: { folder: string }) => p.folder === 'broken')).toMatchObject({ state: 'failed', error: expect.stringContaining('name') });
    expect(res.plugins.find((p: { folder: string }) => p.folder === 'text-tools')).toMatchObject({ state: 'loaded' });
    expect(res.mcpServers).toEqual([expect.objectContaining({ state: 'ready' })]);

    const dir = join(work, 'plugins', 'approvals');
    mkdirSync(dir);
    writeFileSync(join(dir, 'plugin.json'), JSON.stringify({ name: 'approvals', version: '1.0.0' }));
    writeFileSync(
      join(dir, 'index.js'),
      `const { definePlugin, defineTool } = require('@troupe/plugin-sdk');
       module.exports = definePlugin({ tools: [defineTool({ name: 'approve_me', description: 'Sends money.', requiresApproval: true,
         hints: { destructive: true }, parameters: { type: 'object', properties: {} }, run: () => ({ sent: true }) })] });`,
    );
    const deadline = Date.now() + 20_000;
    let found: toolPlugin.ToolDefinition | undefined;
    while (!found && Date.now() < deadline) {
      found = (await list('tinkerer')).tools.find((t) => t.name === 'approve_me');
      if (!found) await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toMatchObject({ requiresApproval: true, annotations: { destructiveHint: true }, source: 'plugin:approvals' });
    expect(await invoke('approve_me', {})).toMatchObject({ ok: false, error: expect.stringMatching(/^APPROVAL_REQUIRED: /) });
    expect(await invoke('approve_me', {}, 'tinkerer', { approved: true })).toMatchObject({ ok: true, resultJson: '{"sent":true}' });
  });

  it('lists and invokes MCP tools under the same grants, timeouts and errors', async () => {
    const echo = await invoke('echo__echo', { text: 'over stdio' });
    expect(JSON.parse(echo.resultJson)).toMatchObject({ text: 'over stdio' });
    expect(JSON.parse((await invoke('echo__add', { a: 2, b: 40 })).resultJson)).toEqual({ sum: 42 });
    expect(await invoke('echo__fail', {})).toMatchObject({ ok: false, error: 'TOOL_FAILED: it failed on purpose' });
    expect(await invoke('echo__sleep', { ms: 5000 })).toMatchObject({ ok: false, error: expect.stringMatching(/^TIMEOUT: /) });
    expect(await invoke('echo__add', { a: 'two' })).toMatchObject({ ok: false, error: expect.stringMatching(/INVALID_ARGUMENTS: .*(a: must be number|b)/) });
    expect(JSON.parse((await invoke('echo__env', { name: 'SERVICE_ONLY_SECRET' })).resultJson)).toMatchObject({ text: 'unset' });
    expect(await invoke('echo__echo', { text: 'x' }, 'helper').catch((e) => e)).toMatchObject({ code: GrpcStatus.PERMISSION_DENIED });
  });

  it('runs the built-ins: date/time in a zone, document search, handoff', async () => {
    const time = JSON.parse((await invoke('datetime', { timezone: 'Asia/Tokyo', instant: '2026-03-01T00:00:00Z' })).resultJson);
    expect(time).toMatchObject({ local: '2026-03-01T09:00:00+09:00' });
    const docs = JSON.parse((await invoke('search_documents', { query: 'boiler pressure bar' })).resultJson);
    expect(docs.passages[0]).toMatchObject({ document: 'manual.md', text: expect.stringContaining('1.5 bar') });
    const handoff = JSON.parse((await invoke('handoff', { to_role: 'critic', reason: 'review' })).resultJson);
    expect(handoff).toMatchObject({ directive: 'handoff', to_role: 'critic' });
    expect(await invoke('handoff', { to_role: 'ghost', reason: 'x' })).toMatchObject({ ok: false, error: 'INVALID_ARGUMENTS: to_role: no role "ghost"' });
  });

  it('gives a role with many tools find_tools, whose finds are callable for the rest of the turn', async () => {
    expect(names(await list('collector', 'sess-9', 'turn-1'))).toEqual(['delegate', 'find_tools', 'handoff']);
    const ctx = { sessionId: 'sess-9', turnId: 'turn-1' };
    expect(await invoke('slugify', { title: 'x' }, 'collector', ctx).catch((e) => e)).toMatchObject({
      code: GrpcStatus.PERMISSION_DENIED,
      details: expect.stringContaining('slugify'),
    });
    const found = await invoke('find_tools', { query: 'url slug for a title', limit: 1 }, 'collector', ctx);
    expect(JSON.parse(found.resultJson).tools).toEqual([expect.objectContaining({ name: 'slugify', parameters: expect.objectContaining({ type: 'object' }) })]);
    expect(names(await list('collector', 'sess-9', 'turn-1'))).toEqual(['delegate', 'find_tools', 'handoff', 'slugify']);
    expect(await invoke('slugify', { title: 'Hello World' }, 'collector', ctx)).toMatchObject({ ok: true, resultJson: '{"slug":"hello-world"}' });
    expect(await invoke('slugify', { title: 'x' }, 'collector', { sessionId: 'sess-9', turnId: 'turn-2' }).catch((e) => e)).toMatchObject({
      code: GrpcStatus.PERMISSION_DENIED,
    });
  });

  it('audits every call in a capped Redis Stream and counts calls, errors, timeouts and latency per tool', async () => {
    await invoke('calculator', { expression: '6*7' }, 'tinkerer', { callId: 'audited-call' });
    const key = `${stack.prefix}tool-plugin:audit`;
    let entry: Record<string, string> | undefined;
    for (let i = 0; i < 50 && !entry; i++) {
      const rows = await redis.xrevrange(key, '+', '-', 'COUNT', 200);
      const row = rows.find(([, fields]) => fields[fields.indexOf('callId') + 1] === 'audited-call');
      if (row) entry = Object.fromEntries(row[1].flatMap((v, j, a) => (j % 2 === 0 ? [[v, a[j + 1]]] : [])));
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(entry).toMatchObject({ roleId: 'tinkerer', sessionId: 'sess-1', tool: 'calculator', outcome: 'ok', argsDigest: expect.stringMatching(/^sha256:/) });
    expect(Number(entry!.durationMs)).toBeGreaterThanOrEqual(0);
    const all = await redis.xrange(key, '-', '+');
    const outcomes = new Set(all.map(([, f]) => f[f.indexOf('outcome') + 1]));
    expect([...outcomes].sort()).toEqual(['denied', 'error', 'ok', 'timeout']);

    const metrics = await (await fetch(`${stack.httpUrl('tool-plugin')}/metrics`)).text();
    expect(metrics).toMatch(/troupe_tool_calls_total\{tool="calculator",outcome="ok",service="tool-plugin"\} [1-9]/);
    expect(metrics).toMatch(/troupe_tool_calls_total\{tool="loop_forever",outcome="timeout",service="tool-plugin"\} 1/);
    expect(metrics).toMatch(/troupe_tool_calls_total\{tool="throws",outcome="error",service="tool-plugin"\} 1/);
    expect(metrics).toMatch(/troupe_tool_call_duration_seconds_count\{service="tool-plugin",tool="word_count"\} [1-9]/);
  });
});
