import { ReplyDoneEvent } from '@troupe/domain';
import { ChatClient } from './support/chat-client';
import { longTalkerRole, makeRolesDir } from './support/roles-fixture';
import { ServiceStack } from './support/service-stack';

jest.setTimeout(120_000);

describe('graceful shutdown', () => {
  let stack: ServiceStack;
  let roles: ReturnType<typeof makeRolesDir>;
  let client: ChatClient;

  beforeAll(async () => {
    roles = makeRolesDir({ 'long-talker.json': longTalkerRole(200, 'paced') });
    stack = await ServiceStack.start({ rolesDir: roles.dir });
    client = await ChatClient.connect(stack.sessionUrl, 'sig');
  });

  afterAll(async () => {
    client?.close();
    await stack?.stop();
    roles?.remove();
  });

  it('lets a stream in flight finish when inference gets SIGTERM, then exits 0', async () => {
    const { sessionId } = await client.request('session.open', { roles: ['long-talker'] });
    const ack = await client.request('message.send', { sessionId, text: 'Go.' });
    await client.waitFor('reply.token', (t: { turnId: string }) => t.turnId === ack.turnId);
    const exit = stack.terminate('inference');
    const tokensAtSignal = client.tokenCount(ack.turnId);
    const done: ReplyDoneEvent = await client.replyDone(ack.turnId, 'long-talker');
    expect(['length', 'stop']).toContain(done.finishReason);
    expect(done.usage.completionTokens).toBeGreaterThan(tokensAtSignal);
    expect(await exit).toBe(0);
    expect(stack.output('inference').some((l) => l.includes('"inference stopped"'))).toBe(true);

    // With inference gone, a new message gets a clear error instead of hanging.
    const next = await client.request('message.send', { sessionId, text: 'Again.' });
    const failed: ReplyDoneEvent = await client.replyDone(next.turnId, 'long-talker');
    expect(failed.finishReason).toBe('error');
    expect(failed.error).toMatchObject({ code: 'UPSTREAM_UNAVAILABLE' });
  });
});
