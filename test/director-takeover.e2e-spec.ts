import { ROLE_CONTEXT_CONTRACT, roleContext } from '@troupe/contracts';
import { ReplyTokenEvent } from '@troupe/domain';
import { GrpcClient } from '@troupe/grpc';
import { ChatClient } from './support/chat-client';
import { longTalkerRole, makeRolesDir } from './support/roles-fixture';
import { ServiceStack } from './support/service-stack';

jest.setTimeout(120_000);

/** One director per session across instances, and a takeover when the directing instance dies. */
describe('director lease across session instances', () => {
  let stack: ServiceStack;
  let roles: ReturnType<typeof makeRolesDir>;
  let second: Awaited<ReturnType<ServiceStack['addSessionInstance']>>;
  let history: GrpcClient;
  const clients: ChatClient[] = [];
  const connect = async (url: string, name: string) => {
    const c = await ChatClient.connect(url, name);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    roles = makeRolesDir({ 'long-talker.json': longTalkerRole(180, 'paced') });
    stack = await ServiceStack.start({ rolesDir: roles.dir, env: { session: { DIRECTOR_LEASE_MS: '1000' } } });
    second = await stack.addSessionInstance();
    history = new GrpcClient(ROLE_CONTEXT_CONTRACT, stack.grpcAddress('role-context'), 5000);
  });

  afterAll(async () => {
    clients.forEach((c) => c.close());
    history?.close();
    await second?.terminate();
    await stack?.stop();
    roles?.remove();
  });

  it('answers messages sent through two instances one at a time, in order', async () => {
    const ada = await connect(stack.sessionUrl, 'ada');
    const bob = await connect(second.url, 'bob');
    const { sessionId } = await ada.request('session.open', { roles: ['narrator'] });
    await bob.request('session.join', { sessionId, lastSeq: 0 });
    const [a, b] = await Promise.all([
      ada.request('message.send', { sessionId, text: 'From Ada.' }),
      bob.request('message.send', { sessionId, text: 'From Bob.' }),
    ]);
    await ada.turnEnd(a.turnId);
    await ada.turnEnd(b.turnId);
    // Each turn's events form one uninterrupted block: no two directors ran at once.
    const turnOrder = ada.events.filter((e) => ['reply.start', 'reply.token', 'reply.done', 'turn.end'].includes(e.event)).map((e) => e.payload.turnId);
    const blocks = turnOrder.filter((t, i) => i === 0 || turnOrder[i - 1] !== t);
    expect(blocks).toHaveLength(2);
  });

  it('takes over a session whose directing instance dies mid-reply, and finishes the turn', async () => {
    const watcher = await connect(second.url, 'watcher');
    const ada = await connect(stack.sessionUrl, 'ada');
    const { sessionId } = await ada.request('session.open', { roles: ['long-talker'] });
    await watcher.request('session.join', { sessionId, lastSeq: 0 });
    // Sent through the first instance, which therefore directs the turn.
    const ack = await ada.request('message.send', { sessionId, text: 'Keep talking.' });
    await watcher.waitFor<ReplyTokenEvent>('reply.token', (t) => t.turnId === ack.turnId);
    await stack.crash('session');

    // The lease lapses (1 s) and the second instance runs the turn again to its end.
    const end = await watcher.turnEnd(ack.turnId);
    expect(end.reason).toBe('completed');
    const starts = watcher.events.filter((e) => e.event === 'reply.start' && e.payload.turnId === ack.turnId);
    // The cut reply and the re-run one.
    expect(starts).toHaveLength(2);
    const { entries } = (await history.unary('getHistory', { sessionId, limit: 0 })) as roleContext.GetHistoryResponse;
    // The person's message is recorded once, and the finished reply after it.
    expect(entries.filter((e) => e.speakerKind === 'person').map((e) => e.text)).toEqual(['Keep talking.']);
    expect(entries[entries.length - 1]).toMatchObject({ speaker: 'long-talker', turnId: ack.turnId });

    // The surviving instance goes on serving the session.
    const next = await watcher.request('message.send', { sessionId, text: 'And now?' });
    expect((await watcher.turnEnd(next.turnId)).reason).toBe('completed');
  });
});
