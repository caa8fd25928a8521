import { RoleDirectory } from '../peers/peer-ports';
import { Tool } from '../tools/tool';
import { ToolRegistry } from '../tools/tool-registry';
import { findToolsTool } from '../tools/builtin/find-tools.tool';
import { MemoryFoundToolsStore } from './found-tools.store';
import { FIND_TOOLS, RoleNotFoundError, ToolAccess, ToolPermissionError, grantMatches } from './tool-access';

class FakeRoles extends RoleDirectory {
  calls = 0;
  constructor(private readonly roles: Record<string, string[]>) {
    super();
  }
  async grantsOf(roleId: string): Promise<string[] | null> {
    this.calls++;
    return this.roles[roleId] ?? null;
  }
}

const tool = (name: string, description: string, source = 'builtin'): Tool => ({
  name,
  description,
  source,
  parameters: { type: 'object', properties: {} },
  run: () => name,
});

describe('ToolAccess', () => {
  const registry = new ToolRegistry(1024);
  for (const t of [
    tool('calculator', 'Evaluates arithmetic'),
    tool('datetime', 'Current date and time in a time zone'),
    tool('word_count', 'Counts the words of a text', 'plugin:text-tools'),
    tool('slugify', 'Turns a title into a URL slug', 'plugin:text-tools'),
    tool('weather_now', 'Current weather for a city', 'mcp:weather'),
    tool('weather_forecast', 'Weather forecast for the next days', 'mcp:weather'),
    tool('handoff', 'Hands the conversation to another role'),
  ]) {
    registry.register(t);
  }
  const roles = new FakeRoles({
    small: ['calculator', 'plugin:text-tools'],
    big: ['*'],
    weather: ['weather_*', 'calculator'],
    pinnedOnly: ['calculator', 'datetime', 'word_count', 'slugify', 'handoff'],
  });
  let access: ToolAccess;
  registry.register(findToolsTool(() => access));
  access = new ToolAccess(registry, roles, new MemoryFoundToolsStore(), { findThreshold: 4, grantsCacheMs: 60_000, pinned: ['handoff'] });
  const ctx = (roleId: string, turnId = 't1') => ({ roleId, sessionId: 's1', turnId, userId: '' });
  const names = (tools: Tool[]) => tools.map((t) => t.name).sort();

  it('matches grants by name, source, prefix and "*"', () => {
    const wc = registry.get('word_count')!;
    expect(grantMatches('word_count', wc)).toBe(true);
    expect(grantMatches('plugin:text-tools', wc)).toBe(true);
    expect(grantMatches('word_*', wc)).toBe(true);
    expect(grantMatches('*', wc)).toBe(true);
    expect(grantMatches('plugin:other', wc)).toBe(false);
    expect(grantMatches('word', wc)).toBe(false);
  });

  it('lists only what the role is granted, and everything for an operator (no role)', async () => {
    expect(names(await access.visible('small', '', ''))).toEqual(['calculator', 'slugify', 'word_count']);
    expect(names(await access.visible('weather', '', ''))).toEqual(['calculator', 'weather_forecast', 'weather_now']);
    expect(await access.visible('', '', '')).toHaveLength(8);
  });

  it('refuses a call the role is not granted, naming the tool and the role', async () => {
    await expect(access.check(ctx('small'), 'weather_now')).rejects.toThrow(ToolPermissionError);
    await expect(access.check(ctx('small'), 'weather_now')).rejects.toThrow('tool "weather_now" is not granted to role "small"');
    await expect(access.check(ctx('small'), 'slugify')).resolves.toBeUndefined();
    await expect(access.visible('ghost', '', '')).rejects.toThrow(RoleNotFoundError);
  });

  it('past the threshold offers find_tools, and what it finds is callable for that turn only', async () => {
    expect(names(await access.visible('big', 's1', 't1'))).toEqual([FIND_TOOLS, 'handoff']);
    // Pinned tools do not count toward the threshold and stay listed past it.
    expect(names(await access.visible('pinnedOnly', 's1', 't1'))).toEqual(['calculator', 'datetime', 'handoff', 'slugify', 'word_count']);
    await expect(access.check(ctx('big'), 'weather_now')).rejects.toThrow(/must be found with find_tools/);
    const found = (await registry.invoke(FIND_TOOLS, '{"query":"weather forecast","limit":2}', ctx('big'))) as { tools: { name: string }[] };
    expect(found.tools.map((t) => t.name)).toEqual(['weather_forecast', 'weather_now']);
    expect(found.tools[0]).toMatchObject({ description: expect.any(String), parameters: { type: 'object' } });
    expect(names(await access.visible('big', 's1', 't1'))).toEqual([FIND_TOOLS, 'handoff', 'weather_forecast', 'weather_now']);
    await expect(access.check(ctx('big'), 'weather_now')).resolves.toBeUndefined();
    await expect(access.check(ctx('big', 't2'), 'weather_now')).rejects.toThrow(ToolPermissionError);
  });

  it('find_tools needs the session and turn of the call', async () => {
    await expect(registry.invoke(FIND_TOOLS, '{"query":"weather"}', { roleId: 'big', sessionId: '', turnId: '', userId: '' })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENTS',
    });
  });

  it('reuses a role\'s grants within the cache window', async () => {
    const before = roles.calls;
    await access.visible('small', '', '');
    await access.visible('small', '', '');
    expect(roles.calls - before).toBeLessThanOrEqual(1);
  });
});
