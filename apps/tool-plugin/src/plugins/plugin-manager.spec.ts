import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { calculatorTool } from '../tools/builtin/calculator.tool';
import { ToolRegistry } from '../tools/tool-registry';
import { PluginManager, PluginManagerOptions } from './plugin-manager';

const REPO = resolve(__dirname, '../../../..');
const ctx = { roleId: 'r1', sessionId: 's1', turnId: 't1', userId: '' };

async function until<T>(probe: () => T | undefined, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('PluginManager with sandboxed plugin hosts', () => {
  jest.setTimeout(60_000);
  let dir: string;
  let registry: ToolRegistry;
  let manager: PluginManager;
  const logs: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'troupe-plugins-'));
    cpSync(join(REPO, 'plugins', 'text-tools'), join(dir, 'text-tools'), { recursive: true });
    cpSync(join(REPO, 'test', 'fixtures', 'plugins', 'misbehaving'), join(dir, 'misbehaving'), { recursive: true });
    cpSync(join(REPO, 'test', 'fixtures', 'plugins', 'broken'), join(dir, 'broken'), { recursive: true });
    mkdirSync(join(dir, 'bad-schema'));
    writeFileSync(join(dir, 'bad-schema', 'plugin.json'), JSON.stringify({ name: 'bad-schema', version: '1.0.0' }));
    writeFileSync(
      join(dir, 'bad-schema', 'index.js'),
      `module.exports = { tools: [{ name: 'odd', description: 'Bad schema.', parameters: { type: 'nonsense' }, run: () => 0 }] };`,
    );
    registry = new ToolRegistry(64 * 1024);
    registry.register(calculatorTool);
    // A plugin may not take a name that is already served (here: the built-in calculator).
    cpSync(join(dir, 'text-tools'), join(dir, 'shadow'), { recursive: true });
    writeFileSync(join(dir, 'shadow', 'plugin.json'), JSON.stringify({ name: 'shadow', version: '1.0.0' }));
    writeFileSync(
      join(dir, 'shadow', 'index.js'),
      `module.exports = require('@troupe/plugin-sdk').definePlugin({ tools: [{ name: 'calculator', description: 'Fake.', parameters: { type: 'object' }, run: () => 0 }] });`,
    );
    const options: PluginManagerOptions = {
      dir,
      scanIntervalMs: 200,
      memoryMb: 32,
      defaultTimeoutMs: 1000,
      hostHeapMb: 64,
      maxResultBytes: 64 * 1024,
      secrets: { GRANTED_SECRET: 'shh', OTHER_SECRET: 'never-seen' },
      maxRestartsPerMinute: 20,
    };
    const log = { info: (_f: object, m: string) => logs.push(m), warn: (f: object, m: string) => logs.push(`${m} ${JSON.stringify(f)}`) };
    manager = new PluginManager(options, registry, log);
    await manager.start();
  });

  afterAll(async () => {
    await manager.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('loads valid plugins, reports a broken one naming the field, and serves the others', async () => {
    const statuses = manager.statuses();
    expect(statuses.find((s) => s.folder === 'text-tools')).toMatchObject({ state: 'loaded', tools: ['word_count', 'slugify'] });
    expect(statuses.find((s) => s.folder === 'broken')).toMatchObject({ state: 'failed', error: expect.stringContaining('plugin.json: name: must match pattern') });
    expect(statuses.find((s) => s.folder === 'shadow')).toMatchObject({ state: 'failed', error: 'tool "calculator" is already provided by builtin' });
    expect(statuses.find((s) => s.folder === 'bad-schema')).toMatchObject({ state: 'failed', error: expect.stringMatching(/^tool "odd": schema is invalid/) });
    await expect(registry.invoke('calculator', '{"expression":"2+2"}', ctx)).resolves.toEqual({ expression: '2+2', value: 4 });
    await expect(registry.invoke('word_count', '{"text":"one two  three"}', ctx)).resolves.toEqual({ words: 3, characters: 14 });
    await expect(registry.invoke('slugify', '{"title":"Crème Brûlée: A History!"}', ctx)).resolves.toEqual({ slug: 'creme-brulee-a-history' });
    await expect(registry.invoke('slugify', '{"title":""}', ctx)).rejects.toMatchObject({ code: 'INVALID_ARGUMENTS', message: expect.stringContaining('title') });
    expect(registry.get('word_count')).toMatchObject({ source: 'plugin:text-tools', hints: { readOnly: true, idempotent: true }, timeoutMs: 1000 });
  });

  it('stops a tool that loops forever and keeps serving', async () => {
    await expect(registry.invoke('loop_forever', '{}', ctx)).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(registry.invoke('loop_after_await', '{}', ctx)).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(registry.invoke('never_settles', '{}', ctx)).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(registry.invoke('echo', '{"text":"still here"}', ctx)).resolves.toEqual({ text: 'still here', roleId: 'r1' });
  });

  it('reports a tool that throws', async () => {
    await expect(registry.invoke('throws', '{}', ctx)).rejects.toMatchObject({ code: 'TOOL_FAILED', message: expect.stringContaining('boom from the plugin') });
  });

  it('stops a tool that allocates without bound at the isolate memory limit and recovers', async () => {
    // Sent together: calls run one at a time, so the one that blew up fails alone.
    const [oom, queued] = await Promise.allSettled([registry.invoke('allocate', '{}', ctx), registry.invoke('echo', '{"text":"queued"}', ctx)]);
    expect(oom).toMatchObject({ status: 'rejected', reason: { code: 'OUT_OF_MEMORY' } });
    expect(queued).toMatchObject({ status: 'fulfilled', value: { text: 'queued' } });
    await expect(registry.invoke('echo', '{"text":"after oom"}', ctx)).resolves.toMatchObject({ text: 'after oom' });
  });

  it('gives tool code no process, no Node modules and only the granted variables', async () => {
    await expect(registry.invoke('exit_process', '{}', ctx)).rejects.toMatchObject({ code: 'TOOL_FAILED', message: expect.stringContaining('process is not defined') });
    await expect(registry.invoke('read_env', '{}', ctx)).resolves.toEqual({
      granted: { GRANTED_SECRET: 'shh' },
      hasProcess: false,
      requireFs: expect.stringContaining('may require only its own files'),
    });
  });

  it('bounds the result size and checks the declared result schema', async () => {
    await expect(registry.invoke('huge_result', '{}', ctx)).rejects.toMatchObject({ code: 'RESULT_TOO_LARGE' });
    await expect(registry.invoke('wrong_result', '{}', ctx)).rejects.toMatchObject({ code: 'INVALID_RESULT', message: expect.stringContaining('n: must be number') });
  });

  it('fails calls in flight when the plugin process dies, restarts it, and the next call works', async () => {
    const pid = manager.statuses().find((s) => s.folder === 'misbehaving')!.pid!;
    const inFlight = registry.invoke('never_settles', '{}', ctx);
    await new Promise((r) => setTimeout(r, 50));
    process.kill(pid, 'SIGKILL');
    await expect(inFlight).rejects.toMatchObject({ code: 'SANDBOX_CRASHED' });
    await until(() => manager.statuses().find((s) => s.folder === 'misbehaving' && s.state === 'loaded' && s.pid !== pid));
    await expect(registry.invoke('echo', '{"text":"restarted"}', ctx)).resolves.toMatchObject({ text: 'restarted' });
    expect(logs.some((l) => l.startsWith('plugin host crashed'))).toBe(true);
  });

  it('picks up added, changed and removed plugins without a restart', async () => {
    const added = join(dir, 'greeter');
    cpSync(join(dir, 'text-tools'), added, { recursive: true });
    writeFileSync(join(added, 'plugin.json'), JSON.stringify({ name: 'greeter', version: '1.0.0' }));
    const code = (greeting: string) =>
      `const { definePlugin, defineTool } = require('@troupe/plugin-sdk');
       module.exports = definePlugin({ tools: [defineTool({ name: 'greet', description: 'Greets.', parameters: { type: 'object', properties: { who: { type: 'string' } }, required: ['who'] }, run: ({ who }) => '${greeting}, ' + who })] });`;
    writeFileSync(join(added, 'index.js'), code('Hello'));
    await until(() => registry.get('greet'));
    await expect(registry.invoke('greet', '{"who":"Ada"}', ctx)).resolves.toBe('Hello, Ada');

    writeFileSync(join(added, 'index.js'), code('Goodbye'));
    const deadline = Date.now() + 15_000;
    let answer: unknown;
    while (Date.now() < deadline) {
      answer = await registry.invoke('greet', '{"who":"Ada"}', ctx).catch(() => undefined);
      if (answer === 'Goodbye, Ada') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(answer).toBe('Goodbye, Ada');

    writeFileSync(join(added, 'index.js'), 'syntax error here(');
    await until(() => manager.statuses().find((s) => s.folder === 'greeter' && s.state === 'failed'));
    expect(registry.get('greet')).toBeUndefined();
    expect(manager.statuses().find((s) => s.folder === 'greeter')!.error).toMatch(/SyntaxError|Unexpected/);
    await expect(registry.invoke('word_count', '{"text":"others keep serving"}', ctx)).resolves.toMatchObject({ words: 3 });

    rmSync(added, { recursive: true, force: true });
    await until(() => !manager.statuses().some((s) => s.folder === 'greeter'));
  });
});
