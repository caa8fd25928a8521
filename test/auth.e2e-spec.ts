import { SignJWT } from 'jose';
import { io } from 'socket.io-client';
import { ChatClient } from './support/chat-client';
import { ServiceStack } from './support/service-stack';

jest.setTimeout(120_000);

const SECRET = 'a-test-secret-that-is-long-enough-for-hs256';

function token(sub: string, extra: Record<string, unknown> = {}, secret = SECRET, expiresIn = '5m'): Promise<string> {
  return new SignJWT({ ...extra })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject(sub)
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(new TextEncoder().encode(secret));
}

/** Connects and resolves with the connect_error's message and data, or 'connected'. */
function tryConnect(url: string, auth: object): Promise<{ message: string; data?: any } | 'connected'> {
  return new Promise((resolve) => {
    const socket = io(url, { auth, transports: ['websocket'], reconnection: false });
    socket.once('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.once('connect_error', (e: Error & { data?: unknown }) => {
      socket.close();
      resolve({ message: e.message, data: e.data });
    });
  });
}

describe('auth and limits', () => {
  let stack: ServiceStack;
  const clients: ChatClient[] = [];
  const connectAs = async (sub: string, name: string) => {
    const client = await ChatClient.connect(stack.sessionUrl, { token: await token(sub, { name }) });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    stack = await ServiceStack.start({ env: { session: { AUTH_JWT_SECRET: SECRET, RATE_LIMIT_MESSAGES_PER_MINUTE: '3' } } });
  });

  afterAll(async () => {
    clients.forEach((c) => c.close());
    await stack?.stop();
  });

  it('refuses sockets without a valid token, and says why', async () => {
    await expect(tryConnect(stack.sessionUrl, {})).resolves.toMatchObject({ message: 'a bearer token is required', data: { code: 'UNAUTHENTICATED' } });
    await expect(tryConnect(stack.sessionUrl, { token: 'not.a.jwt' })).resolves.toMatchObject({ data: { code: 'UNAUTHENTICATED' } });
    await expect(tryConnect(stack.sessionUrl, { token: await token('eve', {}, 'another-secret-of-sufficient-length!!') })).resolves.toMatchObject({
      message: expect.stringMatching(/signature/),
    });
    await expect(tryConnect(stack.sessionUrl, { token: await token('old', {}, SECRET, '-1m') })).resolves.toMatchObject({
      message: expect.stringMatching(/exp/),
    });
    await expect(tryConnect(stack.sessionUrl, { token: await token('ada') })).resolves.toBe('connected');
    expect(stack.output('session').some((l) => l.includes('anonymous mode'))).toBe(false);
  });

  it('lets only the owner and invited people into a session', async () => {
    const ada = await connectAs('user-ada', 'Ada');
    const bob = await connectAs('user-bob', 'Bob');
    const { sessionId } = await ada.request('session.open', { roles: ['narrator'] });
    await expect(bob.request('session.join', { sessionId })).resolves.toMatchObject({ ok: false, error: { code: 'FORBIDDEN', field: 'sessionId' } });
    await expect(bob.request('session.invite', { sessionId, userId: 'user-bob' })).resolves.toMatchObject({ ok: false, error: { code: 'FORBIDDEN' } });
    await expect(ada.request('session.invite', { sessionId, userId: 'user-bob' })).resolves.toEqual({ ok: true, invited: 'user-bob' });
    await expect(bob.request('session.join', { sessionId })).resolves.toMatchObject({ ok: true, sessionId });
    const ack = await bob.request('message.send', { sessionId, text: 'Hello from Bob.' });
    await expect(ada.waitFor('message.user', (m: { turnId: string }) => m.turnId === ack.turnId)).resolves.toMatchObject({ author: 'Bob' });
  });

  it('tells an invited person, on another session instance, through the Socket.IO Redis adapter', async () => {
    const second = await stack.addSessionInstance();
    try {
      const ada = await connectAs('user-ada2', 'Ada');
      const eve = await ChatClient.connect(second.url, { token: await token('user-eve', { name: 'Eve' }) });
      clients.push(eve);
      const { sessionId } = await ada.request('session.open', { roles: ['narrator'] });
      await ada.request('session.invite', { sessionId, userId: 'user-eve' });
      await expect(eve.waitFor('session.invited', () => true, 10_000)).resolves.toEqual({
        sessionId,
        by: 'Ada',
        roles: [expect.objectContaining({ id: 'narrator' })],
      });
      await expect(eve.request('session.join', { sessionId })).resolves.toMatchObject({ ok: true });
    } finally {
      await second.terminate();
    }
  });

  it('limits messages per person per minute with a clear error', async () => {
    const cy = await connectAs('user-cy', 'Cy');
    const { sessionId } = await cy.request('session.open', { roles: ['narrator'] });
    for (let i = 0; i < 3; i++) expect(await cy.request('message.send', { sessionId, text: `m${i}` })).toMatchObject({ ok: true });
    const limited = await cy.request('message.send', { sessionId, text: 'one too many' });
    expect(limited).toMatchObject({ ok: false, error: { code: 'RATE_LIMITED', message: expect.stringMatching(/at most 3 messages a minute; retry in \d+ s/) } });
    // The limit is per person: someone else is not affected.
    const dee = await connectAs('user-dee', 'Dee');
    const other = await dee.request('session.open', { roles: ['narrator'] });
    expect(await dee.request('message.send', { sessionId: other.sessionId, text: 'hi' })).toMatchObject({ ok: true });
  });

  it('protects the REST API with the same tokens', async () => {
    expect((await fetch(`${stack.sessionUrl}/api/roles`)).status).toBe(401);
    const body = await (await fetch(`${stack.sessionUrl}/api/roles`)).json();
    expect(body).toMatchObject({ code: 'UNAUTHENTICATED' });
    const ok = await fetch(`${stack.sessionUrl}/api/roles`, { headers: { authorization: `Bearer ${await token('ada')}` } });
    expect(ok.status).toBe(200);
    // Health and metrics stay open for probes and scrapers.
    expect((await fetch(`${stack.sessionUrl}/health`)).status).toBe(200);
  });
});
