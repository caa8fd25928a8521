import { ApprovalRequestEvent, ToolResultEvent } from '@troupe/domain';
import { join } from 'node:path';
import { ChatClient } from './support/chat-client';
import { makeRolesDir, stagehandRole } from './support/roles-fixture';
import { REPO_ROOT, ServiceStack } from './support/service-stack';

jest.setTimeout(120_000);

/**
 * The director's tool loop and human approval through every real service: the `paced` model
 * (built by scripts/build-models.ts) answers "calculate" and "announce" with tool calls.
 */
describe('tool calls and approvals in a chat', () => {
  let stack: ServiceStack;
  let roles: ReturnType<typeof makeRolesDir>;
  const clients: ChatClient[] = [];
  const connect = async (name: string) => {
    const c = await ChatClient.connect(stack.sessionUrl, name);
    clients.push(c);
    return c;
  };

  beforeAll(async () => {
    roles = makeRolesDir({
      'stagehand.json': stagehandRole(['calculator', 'announce', 'delegate']),
    });
    stack = await ServiceStack.start({
      rolesDir: roles.dir,
      env: { 'tool-plugin': { PLUGINS_DIR: join(REPO_ROOT, 'test', 'fixtures', 'approval-plugins') } },
    });
  });

  afterAll(async () => {
    clients.forEach((c) => c.close());
    await stack?.stop();
    roles?.remove();
  });

  async function open(client: ChatClient) {
    const { sessionId } = await client.request('session.open', { roles: ['stagehand'], policy: { turnPolicy: 'single' } });
    return sessionId as string;
  }

  it('runs a tool the model asks for, streams call and result, and lets the role answer with it', async () => {
    const client = await connect('ada');
    const sessionId = await open(client);
    const ack = await client.request('message.send', { sessionId, text: 'Please calculate six times seven.' });
    const end = await client.turnEnd(ack.turnId);
    expect(end.reason).toBe('completed');
    const names = client.events.filter((e) => e.payload?.turnId === ack.turnId).map((e) => e.event);
    expect(names.filter((n) => n !== 'reply.token')).toEqual([
      'message.user',
      'reply.start',
      'reply.done',
      'tool.call',
      'tool.result',
      'reply.start',
      'reply.done',
      'turn.end',
    ]);
    expect(await client.waitFor('tool.call')).toMatchObject({ tool: 'calculator', arguments: { expression: '6 * 7' }, roleId: 'stagehand' });
    expect(await client.waitFor<ToolResultEvent>('tool.result')).toMatchObject({ ok: true, result: { expression: '6 * 7', value: 42 } });
    const replies = client.events.filter((e) => e.event === 'reply.done').map((e) => e.payload.text);
    expect(replies[1]).toBe('The tool answered; that settles it.');
  });

  it('pauses for approval, survives a reconnect, and goes on when a person approves over REST', async () => {
    const ada = await connect('ada');
    const sessionId = await open(ada);
    const ack = await ada.request('message.send', { sessionId, text: 'Announce the show.' });
    const request = await ada.waitFor<ApprovalRequestEvent>('approval.request');
    expect(request).toMatchObject({ tool: 'announce', arguments: { message: 'The show starts now' }, roleId: 'stagehand', turnId: ack.turnId });
    ada.close();

    // Someone reconnecting finds the pending request in the replayed log.
    const back = await connect('ada');
    await back.request('session.join', { sessionId, lastSeq: 0 });
    const replayed = await back.waitFor<ApprovalRequestEvent>('approval.request');
    expect(replayed.callId).toBe(request.callId);
    expect(back.events.some((e) => e.event === 'turn.end')).toBe(false);

    const answer = await fetch(`${stack.sessionUrl}/api/sessions/${sessionId}/approvals/${encodeURIComponent(request.callId)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ approved: true, note: 'go ahead' }),
    });
    expect(answer.status).toBe(200);
    expect(await back.waitFor('approval.decision')).toMatchObject({ callId: request.callId, approved: true, note: 'go ahead' });
    expect(await back.waitFor<ToolResultEvent>('tool.result')).toMatchObject({ ok: true, result: { announced: 'The show starts now' } });
    expect((await back.turnEnd(ack.turnId)).reason).toBe('completed');
    // A second answer to the same call is refused.
    await expect(back.request('approval.respond', { sessionId, callId: request.callId, approved: false })).resolves.toMatchObject({
      ok: false,
      error: { code: 'UNKNOWN_APPROVAL' },
    });
  });

  it('feeds a refusal back to the role', async () => {
    const bob = await connect('bob');
    const sessionId = await open(bob);
    const ack = await bob.request('message.send', { sessionId, text: 'Announce it now.' });
    const request = await bob.waitFor<ApprovalRequestEvent>('approval.request');
    expect(await bob.request('approval.respond', { sessionId, callId: request.callId, approved: false, note: 'not yet' })).toEqual({
      ok: true,
      callId: request.callId,
      approved: false,
    });
    expect(await bob.waitFor<ToolResultEvent>('tool.result')).toMatchObject({ ok: false, error: 'REFUSED: bob did not approve this call: not yet' });
    await bob.turnEnd(ack.turnId);
    const replies = bob.events.filter((e) => e.event === 'reply.done').map((e) => e.payload.text);
    expect(replies[replies.length - 1]).toBe('The tool did not answer, so I will leave it there.');
  });

  it('queues a background run when a role delegates, and announces its result in the session', async () => {
    const cy = await connect('cy');
    const sessionId = await open(cy);
    const ack = await cy.request('message.send', { sessionId, text: 'Please delegate this.' });
    const result = await cy.waitFor<ToolResultEvent>('tool.result', (r) => r.tool === 'delegate');
    expect(result).toMatchObject({ ok: true, result: { directive: 'delegate', role: 'helper', runId: expect.any(String) } });
    await cy.turnEnd(ack.turnId);
    const runId = (result.result as { runId: string }).runId;
    const announced = await cy.waitFor<{ runId: string; status: string; role: string; text: string }>('agent.run', (e) => e.runId === runId, 60_000);
    expect(announced).toMatchObject({ sessionId, role: 'helper', status: 'completed', text: expect.any(String) });
  });
});
