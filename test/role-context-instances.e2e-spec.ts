import { roleContext } from '@troupe/contracts';
import { GrpcClient } from '@troupe/grpc';
import { ServiceProcess, testPrefix } from './support/service-process';

jest.setTimeout(90_000);

/**
 * Two role-context processes behind one Redis: whatever one acknowledges (a role update, a new
 * turn, a memory edit), the other never answers from a stale cache afterwards.
 */
describe('two role-context instances', () => {
  const { prefix, cleanup } = testPrefix();
  let a: ServiceProcess;
  let b: ServiceProcess;
  let grpcA: GrpcClient;
  let grpcB: GrpcClient;
  const role = (persona: string) => JSON.stringify({ id: 'shifty', name: 'Shifty', persona, model: 'tiny-decoder', memory: { sharedBlocks: ['board'] } });
  const assemble = (client: GrpcClient, request: Partial<roleContext.AssembleContextRequest>) =>
    client.unary<unknown, roleContext.AssembleContextResponse>('assembleContext', request);

  beforeAll(async () => {
    // No inference service here: recall is off for these roles, and Embed is never needed.
    const env = { REDIS_KEY_PREFIX: prefix, INFERENCE_ADDRESS: '127.0.0.1:9' };
    [a, b] = await Promise.all([ServiceProcess.start('role-context', env), ServiceProcess.start('role-context', env)]);
    grpcA = a.roleContextClient();
    grpcB = b.roleContextClient();
  });

  afterAll(async () => {
    grpcA?.close();
    grpcB?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    await cleanup();
  });

  it('never serves a stale persona after a role update is acknowledged', async () => {
    await grpcA.unary('putRole', { definitionJson: role('Persona 0.') });
    for (let i = 1; i <= 25; i++) {
      // B has the current persona cached (and the latest role version)...
      await assemble(grpcB, { sessionId: `follow-${i}`, roleId: 'shifty', followLatest: true });
      const warm = await assemble(grpcB, { sessionId: `follow-${i}`, roleId: 'shifty', followLatest: true });
      expect(warm.cached).toBe(true);
      expect((await grpcB.unary<unknown, roleContext.GetRoleResponse>('getRole', { id: 'shifty' })).role!.persona).toBe(`Persona ${i - 1}.`);
      // ...A stores a new version; once A acknowledges, B answers with it.
      const put = await grpcA.unary<unknown, roleContext.PutRoleResponse>('putRole', { definitionJson: role(`Persona ${i}.`) });
      expect(put.role!.version).toBe(i + 1);
      const fresh = await assemble(grpcB, { sessionId: `follow-${i}`, roleId: 'shifty', followLatest: true });
      expect(fresh.messages[0].content).toBe(`Persona ${i}.`);
      expect(fresh.role!.version).toBe(i + 1);
      expect((await grpcB.unary<unknown, roleContext.GetRoleResponse>('getRole', { id: 'shifty' })).role!.version).toBe(i + 1);
    }
    // A deletion reaches B as well.
    await grpcA.unary('deleteRole', { id: 'shifty' });
    await expect(assemble(grpcB, { sessionId: 'follow-1', roleId: 'shifty', followLatest: true })).rejects.toThrow(/NOT_FOUND/);
  });

  it('shows a turn appended on one instance in the next context assembled on the other', async () => {
    await grpcA.unary('putRole', { definitionJson: role('Steady.') });
    const sessionId = 'shared-session';
    for (let i = 0; i < 20; i++) {
      await assemble(grpcB, { sessionId, roleId: 'shifty' });
      const entry = { id: '', speakerKind: 'person', speaker: 'ada', text: `message ${i}`, tokenCount: 0, turnId: '', createdAt: '', toolCallsJson: '' };
      await (i % 2 === 0 ? grpcA : grpcB).unary('appendHistory', { sessionId, entry });
      const other = await assemble(i % 2 === 0 ? grpcB : grpcA, { sessionId, roleId: 'shifty' });
      expect(other.messages[other.messages.length - 1].content).toBe(`message ${i}`);
    }
  });

  it('shares rendered personas through the Redis tier of the persona class', async () => {
    await grpcA.unary('putRole', { definitionJson: role('Rendered once, read twice.') });
    const stats = async (client: GrpcClient) =>
      (await client.unary<unknown, roleContext.GetCacheStatsResponse>('getCacheStats', {})).classes.find((c) => c.name === 'persona')!;
    const before = Number((await stats(grpcB)).secondTierHits);
    await assemble(grpcA, { sessionId: 'tier-a', roleId: 'shifty', followLatest: true });
    const context = await assemble(grpcB, { sessionId: 'tier-b', roleId: 'shifty', followLatest: true });
    expect(context.messages[0].content).toBe('Rendered once, read twice.');
    expect(Number((await stats(grpcB)).secondTierHits)).toBe(before + 1);
  });

  it('shows a shared memory edit made through one instance on the other', async () => {
    const sessionId = 'memory-session';
    await assemble(grpcB, { sessionId, roleId: 'shifty' });
    expect((await assemble(grpcB, { sessionId, roleId: 'shifty' })).cached).toBe(true);
    await grpcA.unary('putMemoryBlock', { roleId: 'shifty', name: 'board', text: 'Deploy on Tuesday.' });
    const context = await assemble(grpcB, { sessionId, roleId: 'shifty' });
    expect(context.messages[1].content).toBe('Memory blocks:\n[board] (shared)\nDeploy on Tuesday.');
  });
});
