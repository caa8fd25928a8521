import { ReplyDoneEvent, ReplyTokenEvent } from '@troupe/domain';
import { ChatClient, contiguousIndexes } from './support/chat-client';
import { longTalkerRole, makeRolesDir } from './support/roles-fixture';
import { RawPollingClient } from './support/raw-polling-client';
import { ServiceStack } from './support/service-stack';

jest.setTimeout(120_000);

/** Streams that survive a reconnect: per-session sequence numbers, replay from the event log, two instances. */
describe('resumable streams across session instances', () => {
  let stack: ServiceStack;
  let roles: ReturnType<typeof makeRolesDir>;
  let second: Awaited<ReturnType<ServiceStack['addSessionInstance']>>;
  const clients: ChatClient[] = [];
  const connect = async (url: string, name: string) => {
    const c = await ChatClient.connect(url, name);
    clients.push(c);
    return c;
  };
  const seqsOf = (client: ChatClient, sessionId: string) =>
    client.events.filter((e) => e.payload?.sessionId === sessionId && typeof e.payload.seq === 'number').map((e) => e.payload.seq as number);

  beforeAll(async () => {
    // On the paced model: a reply of exactly 150 tokens (tiny-decoder samples its end token now
    // and then, and a reply that ends early never fills a stalled client's backlog).
    roles = makeRolesDir({ 'long-talker.json': longTalkerRole(150, 'paced') });
    // A small bound on unsent events per client, so the slow-client test reaches it quickly;
    // every decoded token streamed on its own (no stream interval in inference or session), so a reply makes many events.
    stack = await ServiceStack.start({
      rolesDir: roles.dir,
      env: { session: { MAX_PENDING_PACKETS: '40', SLOW_CLIENT_TIMEOUT_MS: '1500', TOKEN_STREAM_INTERVAL_MS: '0' }, inference: { INFERENCE_STREAM_INTERVAL_MS: '0' } },
    });
    second = await stack.addSessionInstance();
  });

  afterAll(async () => {
    clients.forEach((c) => c.close());
    await second?.terminate();
    await stack?.stop();
    roles?.remove();
  });

  it('numbers every event of a session consecutively', async () => {
    const client = await connect(stack.sessionUrl, 'ada');
    const { sessionId, lastSeq } = await client.request('session.open', { roles: ['narrator'] });
    expect(lastSeq).toBe(0);
    const ack = await client.request('message.send', { sessionId, text: 'Count.' });
    await client.replyDone(ack.turnId, 'narrator');
    const seqs = seqsOf(client, sessionId);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(client.events[0]).toMatchObject({ event: 'message.user', payload: { seq: 1 } });
  });

  it('replays exactly what a client missed after reconnecting to another instance, then goes on live', async () => {
    const ada = await connect(stack.sessionUrl, 'ada');
    const { sessionId } = await ada.request('session.open', { roles: ['long-talker'] });
    const ack = await ada.request('message.send', { sessionId, text: 'Talk to me.' });
    // Drop the connection a few tokens into the reply.
    await ada.waitFor<ReplyTokenEvent>('reply.token', (t) => t.turnId === ack.turnId && t.index >= 3);
    ada.close();
    const seenBefore = seqsOf(ada, sessionId);
    const lastSeq = Math.max(...seenBefore);

    const back = await connect(second.url, 'ada');
    const join = await back.request('session.join', { sessionId, lastSeq });
    expect(join).toMatchObject({ ok: true, sessionId });
    const done = await back.replyDone(ack.turnId, 'long-talker');
    const seenAfter = seqsOf(back, sessionId);
    // No gap, no duplicate: the two connections together saw 1..N exactly once.
    const all = [...seenBefore, ...seenAfter];
    expect(all).toEqual(all.map((_, i) => i + 1));
    expect(seenAfter[0]).toBe(lastSeq + 1);
    // The tokens from both connections make up the whole reply.
    const tokens = [...ada.tokens(ack.turnId), ...back.tokens(ack.turnId)];
    expect(tokens.map((t) => t.index)).toEqual(contiguousIndexes(tokens));
    expect(tokens.map((t) => t.text).join('')).toBe(done.text);

    // And the live stream continues on the new instance.
    const next = await back.request('message.send', { sessionId, text: 'More.' });
    const nextEnd = await back.turnEnd(next.turnId);
    expect(nextEnd.seq).toBe(Math.max(...seqsOf(back, sessionId)));
    const everything = seqsOf(back, sessionId);
    expect(everything).toEqual(everything.map((_, i) => i + lastSeq + 1));
  });

  it('shows one turn to people connected to different instances, in the same order', async () => {
    const ada = await connect(stack.sessionUrl, 'ada');
    const bob = await connect(second.url, 'bob');
    const { sessionId } = await ada.request('session.open', { roles: ['narrator', 'critic'] });
    expect(await bob.request('session.join', { sessionId, lastSeq: 0 })).toMatchObject({ ok: true });
    const ack = await bob.request('message.send', { sessionId, text: 'Hello from the other instance.' });
    await ada.turnEnd(ack.turnId);
    await bob.turnEnd(ack.turnId);
    const strip = (c: ChatClient) => c.events.filter((e) => e.payload?.sessionId === sessionId).map((e) => [e.event, e.payload.seq, e.payload.text]);
    expect(strip(bob)).toEqual(strip(ada));
  });

  it('refuses to resume from the future and joins from now without lastSeq', async () => {
    const ada = await connect(stack.sessionUrl, 'ada');
    const { sessionId } = await ada.request('session.open', { roles: ['narrator'] });
    const ack = await ada.request('message.send', { sessionId, text: 'One.' });
    const done = await ada.turnEnd(ack.turnId);
    const late = await connect(second.url, 'late');
    await expect(late.request('session.join', { sessionId, lastSeq: done.seq + 5 })).resolves.toMatchObject({
      ok: false,
      error: { code: 'INVALID_PAYLOAD', field: 'lastSeq' },
    });
    expect(await late.request('session.join', { sessionId })).toMatchObject({ ok: true, lastSeq: done.seq });
    expect(seqsOf(late, sessionId)).toEqual([]);
  });

  it('disconnects a client that stops reading, without slowing the others, and it can resume', async () => {
    const ada = await connect(stack.sessionUrl, 'ada');
    const { sessionId } = await ada.request('session.open', { roles: ['long-talker'] });
    const stalled = await RawPollingClient.connect(stack.sessionUrl, { name: 'stalled' });
    await stalled.emit('session.join', { sessionId, lastSeq: 0 });
    await new Promise((r) => setTimeout(r, 200));

    // The stalled client never polls again while a 150-token reply streams.
    const ack = await ada.request('message.send', { sessionId, text: 'Go on.' });
    const done = await ada.turnEnd(ack.turnId);
    expect(seqsOf(ada, sessionId)).toEqual(Array.from({ length: done.seq }, (_, i) => i + 1));

    // Its backlog passed the bound and did not drain within SLOW_CLIENT_TIMEOUT_MS (1.5 s):
    // the server told it why and closed it, having queued no more than the bound for it.
    await new Promise((r) => setTimeout(r, 2500));
    let seen = '';
    for (let i = 0; i < 5 && !seen.startsWith('HTTP 400'); i++) seen += await stalled.poll();
    expect(seen).toContain('SLOW_CONSUMER');
    expect(seen).toMatch(/HTTP 400$/);
    expect(seen.match(/"reply.token"/g)?.length ?? 0).toBeLessThanOrEqual(40);

    // Nothing was lost: a new connection resumes from the last event it had.
    const back = await connect(second.url, 'stalled');
    await back.request('session.join', { sessionId, lastSeq: 0 });
    // A replay longer than the bound goes out in bursts as the socket drains.
    await back.turnEnd(ack.turnId);
    expect(seqsOf(back, sessionId)).toEqual(Array.from({ length: done.seq }, (_, i) => i + 1));
  });
});
