import { ROLE_CONTEXT_CONTRACT, roleContext } from '@troupe/contracts';
import { GrpcClient } from '@troupe/grpc';
import { ChatClient } from './support/chat-client';
import { makeRolesDir } from './support/roles-fixture';
import { ServiceStack } from './support/service-stack';

jest.setTimeout(120_000);

/** A chat session keeps the role version it was opened with while an operator changes the role. */
describe('a session pins its roles', () => {
  let stack: ServiceStack;
  let grpc: GrpcClient;
  let client: ChatClient;
  const roles = makeRolesDir({
    'keeper.json': { id: 'keeper', name: 'Keeper', persona: 'You are Keeper, first edition.', model: 'tiny-decoder', generation: { maxNewTokens: 4 } },
  });

  beforeAll(async () => {
    stack = await ServiceStack.start({ rolesDir: roles.dir });
    grpc = new GrpcClient(ROLE_CONTEXT_CONTRACT, stack.grpcAddress('role-context'), 5000);
    client = await ChatClient.connect(stack.sessionUrl, 'ada');
  });

  afterAll(async () => {
    client?.close();
    grpc?.close();
    await stack?.stop();
    roles.remove();
  });

  it('answers with the version the session started with, while new sessions get the new one', async () => {
    const open = await client.request('session.open', { roles: ['keeper'] });
    expect(open.roles).toEqual([{ id: 'keeper', name: 'Keeper', version: 1 }]);
    const definition = { id: 'keeper', name: 'Keeper', persona: 'You are Keeper, second edition.', model: 'tiny-decoder', generation: { maxNewTokens: 4 } };
    await grpc.unary('putRole', { definitionJson: JSON.stringify(definition) });

    const ack = await client.request('message.send', { sessionId: open.sessionId, text: 'Who are you?' });
    await client.replyDone(ack.turnId, 'keeper');
    const pinned = await grpc.unary<unknown, roleContext.AssembleContextResponse>('assembleContext', { sessionId: open.sessionId, roleId: 'keeper' });
    expect(pinned.role).toMatchObject({ version: 1 });
    expect(pinned.messages[0].content).toBe('You are Keeper, first edition.');

    const fresh = await client.request('session.open', { roles: ['keeper'] });
    expect(fresh.roles).toEqual([{ id: 'keeper', name: 'Keeper', version: 2 }]);
    const latest = await grpc.unary<unknown, roleContext.AssembleContextResponse>('assembleContext', { sessionId: fresh.sessionId, roleId: 'keeper' });
    expect(latest.messages[0].content).toBe('You are Keeper, second edition.');
  });
});
