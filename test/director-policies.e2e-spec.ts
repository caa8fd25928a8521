import { ROLE_CONTEXT_CONTRACT, roleContext } from '@troupe/contracts';
import { ReplyTokenEvent, TurnEndEvent } from '@troupe/domain';
import { GrpcClient } from '@troupe/grpc';
import { ChatClient } from './support/chat-client';
import { longTalkerRole, makeRolesDir } from './support/roles-fixture';
import { ServiceStack } from './support/service-stack';

jest.setTimeout(120_000);

/** What happens when a person writes while a role is still answering, per session policy. */
describe('director: concurrent input policies and turn limits', () => {
  let stack: ServiceStack;
  let roles: ReturnType<typeof makeRolesDir>;
  let history: GrpcClient;
  const clients: ChatClient[] = [];

  beforeAll(async () => {
    // The paced model streams 180 tokens over about a second: long enough to act mid-reply.
    roles = makeRolesDir({ 'long-talker.json': longTalkerRole(180, 'paced') });
    stack = await ServiceStack.start({ rolesDir: roles.dir });
    history = new GrpcClient(ROLE_CONTEXT_CONTRACT, stack.grpcAddress('role-context'), 5000);
  });

  afterAll(async () => {
    clients.forEach((c) => c.close());
    history?.close();
    await stack?.stop();
    roles?.remove();
  });

  /** Opens a session with the policy, sends one message and a second while the first reply streams. */
  async function overlap(concurrentInput: string) {
    const client = await ChatClient.connect(stack.sessionUrl, 'ada');
    clients.push(client);
    const { sessionId } = await client.request('session.open', { roles: ['long-talker'], policy: { concurrentInput } });
    const first = await client.request('message.send', { sessionId, text: 'First message.' });
    await client.waitFor<ReplyTokenEvent>('reply.token', (t) => t.turnId === first.turnId);
    const second = await client.request('message.send', { sessionId, text: 'Second message.' });
    return { client, sessionId, first, second };
  }

  const entries = async (sessionId: string) =>
    ((await history.unary('getHistory', { sessionId, limit: 0 })) as roleContext.GetHistoryResponse).entries.map((e) => [e.speaker, e.turnId]);

  it('enqueue (default): the second message is answered after the first reply finishes', async () => {
    const { client, first, second } = await overlap('enqueue');
    expect(second.ok).toBe(true);
    const firstEnd = await client.turnEnd(first.turnId);
    const secondEnd = await client.turnEnd(second.turnId);
    expect(firstEnd.reason).toBe('completed');
    expect(secondEnd.reason).toBe('completed');
    const secondStart = client.events.find((e) => e.event === 'reply.start' && e.payload.turnId === second.turnId)!.payload;
    expect(secondStart.seq).toBeGreaterThan(firstEnd.seq);
  });

  it('reject: the second message is refused with BUSY while the first reply goes on', async () => {
    const { client, first, second } = await overlap('reject');
    expect(second).toEqual({ ok: false, error: expect.objectContaining({ code: 'BUSY', field: 'sessionId', event: 'message.send' }) });
    expect((await client.turnEnd(first.turnId)).reason).toBe('completed');
  });

  it('interrupt: the reply in progress stops, is kept as said, and the new message is answered', async () => {
    const { client, sessionId, first, second } = await overlap('interrupt');
    const firstEnd: TurnEndEvent = await client.turnEnd(first.turnId);
    expect(firstEnd.reason).toBe('interrupted');
    const cut = await client.replyDone(first.turnId, 'long-talker');
    expect(cut.finishReason).toBe('interrupted');
    expect(cut.usage.completionTokens).toBeLessThan(180);
    expect((await client.turnEnd(second.turnId)).reason).toBe('completed');
    expect(await entries(sessionId)).toEqual([
      ['ada', first.turnId],
      ['long-talker', first.turnId],
      ['ada', second.turnId],
      ['long-talker', second.turnId],
    ]);
  });

  it('rollback: the reply in progress stops and is dropped from history', async () => {
    const { client, sessionId, first, second } = await overlap('rollback');
    expect((await client.turnEnd(first.turnId)).reason).toBe('rolled_back');
    expect((await client.replyDone(first.turnId, 'long-talker')).finishReason).toBe('rolled_back');
    await client.turnEnd(second.turnId);
    expect(await entries(sessionId)).toEqual([
      ['ada', first.turnId],
      ['ada', second.turnId],
      ['long-talker', second.turnId],
    ]);
  });

  it('round-robin with a reply limit cycles through the cast and says why it stopped', async () => {
    const client = await ChatClient.connect(stack.sessionUrl, 'bo');
    clients.push(client);
    const open = await client.request('session.open', { roles: ['narrator', 'critic'], policy: { maxTurnsPerMessage: 3 } });
    expect(open.policy).toMatchObject({ turnPolicy: 'round-robin', maxTurnsPerMessage: 3, concurrentInput: 'enqueue' });
    const ack = await client.request('message.send', { sessionId: open.sessionId, text: 'Discuss.' });
    const end = await client.turnEnd(ack.turnId);
    expect(end).toMatchObject({ reason: 'max_turns', replies: 3 });
    expect(client.events.filter((e) => e.event === 'reply.done').map((e) => e.payload.roleId)).toEqual(['narrator', 'critic', 'narrator']);
  });

  it('validates the policy, naming the field', async () => {
    const client = await ChatClient.connect(stack.sessionUrl, 'cy');
    clients.push(client);
    await expect(client.request('session.open', { roles: ['narrator'], policy: { turnPolicy: 'chaos' } })).resolves.toMatchObject({
      ok: false,
      error: { code: 'INVALID_PAYLOAD', field: 'policy.turnPolicy' },
    });
    await expect(client.request('session.open', { roles: ['narrator'], policy: { moderator: 'ghost' } })).resolves.toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_ROLE', field: 'policy.moderator' },
    });
  });
});
