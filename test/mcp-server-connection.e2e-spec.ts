import { join } from 'node:path';
import { McpServerConnection } from '../apps/tool-plugin/src/mcp/mcp-server.connection';
import { ToolRegistry } from '../apps/tool-plugin/src/tools/tool-registry';
import { REPO_ROOT } from './support/service-stack';

async function until(probe: () => boolean, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The MCP adapter with the official SDK against the fixture server as a real stdio process. */
describe('MCP server connection', () => {
  jest.setTimeout(60_000);
  const registry = new ToolRegistry(64 * 1024, 2000);
  const logs: string[] = [];
  const log = { info: (_: object, m: string) => logs.push(m), warn: (_: object, m: string) => logs.push(m) };
  const connection = new McpServerConnection(
    { name: 'echo', command: process.execPath, args: [join(REPO_ROOT, 'test', 'fixtures', 'mcp-echo-server.js')] },
    registry,
    2000,
    log,
    200,
  );
  const ctx = { roleId: '', sessionId: '', turnId: '', userId: '' };

  afterAll(() => connection.stop());

  it('registers the server\'s tools and withdraws them while it is gone, then reconnects', async () => {
    await connection.start();
    expect(connection.state).toBe('ready');
    expect(connection.toolNames.sort()).toEqual(['echo__add', 'echo__echo', 'echo__env', 'echo__fail', 'echo__sleep']);
    await expect(registry.invoke('echo__echo', '{"text":"hi"}', ctx)).resolves.toMatchObject({ text: 'hi' });

    const pid = connection.pid!;
    process.kill(pid, 'SIGKILL');
    await until(() => connection.state === 'failed');
    expect(registry.get('echo__echo')).toBeUndefined();
    await until(() => connection.state === 'ready' && connection.pid !== pid);
    await expect(registry.invoke('echo__add', '{"a":1,"b":2}', ctx)).resolves.toEqual({ sum: 3 });
    expect(logs).toEqual(expect.arrayContaining(['MCP server unavailable', 'MCP server connected']));
  });
});
