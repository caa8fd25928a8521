import { ToolAuditLog, ToolCallRecord } from '../audit/tool-audit';
import { MemoryFoundToolsStore } from '../grants/found-tools.store';
import { ToolAccess, ToolPermissionError } from '../grants/tool-access';
import { RoleDirectory } from '../peers/peer-ports';
import { calculatorTool } from './builtin/calculator.tool';
import { ToolCalls } from './tool-calls';
import { ToolRegistry } from './tool-registry';

class Audit extends ToolAuditLog {
  entries: ToolCallRecord[] = [];
  async record(entry: ToolCallRecord) {
    this.entries.push(entry);
  }
}

describe('ToolCalls', () => {
  const registry = new ToolRegistry(4096, 200);
  registry.register(calculatorTool);
  registry.register({
    name: 'delete_everything',
    description: 'Dangerous.',
    parameters: { type: 'object', properties: {}, additionalProperties: false },
    requiresApproval: true,
    hints: { destructive: true },
    run: () => ({ deleted: true }),
  });
  registry.register({ name: 'stall', description: 'Never ends.', parameters: { type: 'object' }, timeoutMs: 50, run: () => new Promise(() => {}) });
  const roles = new (class extends RoleDirectory {
    async grantsOf(id: string) {
      return id === 'helper' ? ['calculator', 'delete_everything', 'stall'] : id === 'critic' ? [] : null;
    }
  })();
  const audit = new Audit();
  const log = { info: () => undefined, warn: () => undefined };
  const calls = new ToolCalls(registry, new ToolAccess(registry, roles, new MemoryFoundToolsStore(), { findThreshold: 10, grantsCacheMs: 0 }), audit, undefined, log, 200);
  const request = (tool: string, argumentsJson: string, roleId = 'helper', approved = false) => ({
    callId: `c-${tool}`,
    tool,
    argumentsJson,
    roleId,
    sessionId: 's1',
    turnId: 't1',
    userId: '',
    approved,
  });

  it('lists definitions with approval, hints, timeout and source', async () => {
    const defs = await calls.list('helper', '', '');
    expect(defs.find((d) => d.name === 'delete_everything')).toMatchObject({
      requiresApproval: true,
      annotations: { destructiveHint: true, readOnlyHint: false },
      timeoutMs: 200,
      source: 'builtin',
    });
    expect(await calls.list('critic', '', '')).toEqual([]);
  });

  it('runs a granted call and audits it with an arguments digest, not the arguments', async () => {
    const res = await calls.invoke(request('calculator', '{"expression":"1+2"}'));
    expect(res).toMatchObject({ ok: true, callId: 'c-calculator', resultJson: '{"expression":"1+2","value":3}' });
    expect(audit.entries.at(-1)).toMatchObject({
      roleId: 'helper',
      sessionId: 's1',
      tool: 'calculator',
      outcome: 'ok',
      argsDigest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    expect(JSON.stringify(audit.entries.at(-1))).not.toContain('1+2');
  });

  it('refuses a tool the role is not granted and audits the refusal', async () => {
    await expect(calls.invoke(request('calculator', '{"expression":"1"}', 'critic'))).rejects.toThrow(ToolPermissionError);
    expect(audit.entries.at(-1)).toMatchObject({ roleId: 'critic', tool: 'calculator', outcome: 'denied' });
  });

  it('holds a tool needing approval until the call says a person approved it', async () => {
    expect(await calls.invoke(request('delete_everything', '{}'))).toMatchObject({ ok: false, error: expect.stringMatching(/^APPROVAL_REQUIRED: /) });
    expect(await calls.invoke(request('delete_everything', '{}', 'helper', true))).toMatchObject({ ok: true });
  });

  it('reports timeouts, unknown tools and bad arguments as answers the model can read', async () => {
    expect(await calls.invoke(request('stall', '{}'))).toMatchObject({ ok: false, error: expect.stringMatching(/^TIMEOUT: .*50 ms/) });
    expect(audit.entries.at(-1)).toMatchObject({ tool: 'stall', outcome: 'timeout' });
    expect(await calls.invoke(request('nope', '{}'))).toMatchObject({ ok: false, error: 'UNKNOWN_TOOL: unknown tool "nope"' });
    expect(await calls.invoke(request('calculator', '{"expression":7}'))).toMatchObject({ ok: false, error: expect.stringContaining('expression: must be string') });
  });
});
