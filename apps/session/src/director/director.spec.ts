import { inference, roleContext, toolPlugin } from '@troupe/contracts';
import { SessionPolicy } from '@troupe/domain';
import { Director, DirectorPorts, Turn } from './director';
import { DEFAULT_SESSION_POLICY } from './session-policy';

const ROLES = [
  { id: 'narrator', name: 'Narrator', version: 1 },
  { id: 'critic', name: 'Critic', version: 1 },
];

/** Scripted stand-ins for our own ports: each role's replies in order, tokens one word at a time. */
class ScriptedPorts implements DirectorPorts {
  readonly history: roleContext.HistoryEntry[] = [];
  readonly events: { event: string; payload: any }[] = [];
  readonly toolCalls: toolPlugin.InvokeToolRequest[] = [];
  budgetExhausted?: string;
  decision = { approved: true, by: 'ada', note: '' };
  readonly approvalsAsked: string[] = [];
  onToken?: (roleId: string, index: number) => void;

  constructor(private readonly scripts: Record<string, string[]>) {}

  async appendHistory(request: roleContext.AppendHistoryRequest) {
    this.history.push(request.entry!);
  }
  readonly contextRequests: roleContext.AssembleContextRequest[] = [];
  async assembleContext(request: roleContext.AssembleContextRequest): Promise<roleContext.AssembleContextResponse> {
    this.contextRequests.push(request);
    // As role-context does: the turn's opening message is appended before the context is built.
    if (request.append) this.history.push(request.append);
    return {
      role: { id: request.roleId, version: 1, name: request.roleId, model: 'm', generation: undefined } as roleContext.Role,
      messages: [],
      historyEntries: 0,
      tokenCount: 0,
      tokenBudget: 0,
      tokenizer: 'estimate',
      summaryIncluded: false,
      recallMode: 'none',
      cached: false,
      appendedId: request.append ? `${this.history.length}-0` : '',
    };
  }
  async *generate(request: inference.GenerateRequest, signal: AbortSignal): AsyncIterable<inference.GenerateResponse> {
    const roleId = request.requestId.split(':')[1];
    const text = this.scripts[roleId]?.shift() ?? `${roleId} has nothing more`;
    const words = text.split(/(?<= )/);
    const max = request.params!.maxNewTokens;
    let index = 0;
    for (const word of words.slice(0, max)) {
      if (signal.aborted) return;
      this.onToken?.(roleId, index);
      yield { token: { index: index++, tokenId: 0, text: word, tokenIds: [0] } };
    }
    yield { done: { finishReason: words.length > max ? 'length' : 'stop', usage: { promptTokens: 5, completionTokens: index }, text: '', model: 'm' } };
  }
  async invokeTool(request: toolPlugin.InvokeToolRequest): Promise<toolPlugin.InvokeToolResponse> {
    this.toolCalls.push(request);
    if (request.tool === 'guarded' && !request.approved) {
      return { callId: request.callId, ok: false, resultJson: '', error: 'APPROVAL_REQUIRED: guarded needs a person', durationMs: 1 };
    }
    if (request.tool === 'delegate') {
      return { callId: request.callId, ok: true, resultJson: JSON.stringify({ directive: 'delegate', ...JSON.parse(request.argumentsJson) }), error: '', durationMs: 1 };
    }
    if (request.tool === 'broken') return { callId: request.callId, ok: false, resultJson: '', error: 'INVALID_ARGUMENTS: x: required', durationMs: 1 };
    return { callId: request.callId, ok: true, resultJson: JSON.stringify({ value: 42 }), error: '', durationMs: 1 };
  }
  emit(sessionId: string, event: string, payload: object) {
    this.events.push({ event, payload });
  }
  async chargeSession() {
    return this.budgetExhausted;
  }
  readonly delegated: { role: string; task: string }[] = [];
  async delegate(request: { role: string; task: string }) {
    this.delegated.push({ role: request.role, task: request.task });
    return { runId: 'run-1' };
  }
  async awaitApproval(request: { tool: string }) {
    this.approvalsAsked.push(request.tool);
    return this.decision;
  }
  describeError(e: unknown) {
    return { code: 'INTERNAL' as const, message: String(e) };
  }
  named(event: string) {
    return this.events.filter((e) => e.event === event).map((e) => e.payload);
  }
  speakers() {
    return this.named('reply.done').map((d) => d.roleId);
  }
}

function turn(policy: Partial<SessionPolicy> = {}, roles = ROLES): Turn {
  return { sessionId: 's1', turnId: 't1', author: 'ada', authorId: 'u-ada', text: 'hello', roles, policy: { ...DEFAULT_SESSION_POLICY, ...policy } };
}

const call = (name: string, args: object) => `<tool_call>${JSON.stringify({ name, arguments: args })}</tool_call>`;

describe('Director', () => {
  describe("the person's message", () => {
    it('rides on the first context request, is noted as recorded once, and later requests carry nothing', async () => {
      const ports = new ScriptedPorts({ narrator: ['Once.'], critic: ['Twice.'] });
      const appended: string[] = [];
      const original = ports.appendHistory.bind(ports);
      ports.appendHistory = async (r) => {
        appended.push(r.entry!.speaker);
        await original(r);
      };
      let noted = 0;
      await new Director(ports).run(turn(), new AbortController().signal, { onPersonRecorded: async () => void noted++ });
      expect(ports.contextRequests.map((r) => r.append?.text)).toEqual(['hello', undefined]);
      expect(appended).toEqual(['narrator', 'critic']);
      expect(noted).toBe(1);
      expect(ports.history.map((h) => h.speaker)).toEqual(['ada', 'narrator', 'critic']);
    });

    it('is appended when the turn ends if the request carrying it failed, once', async () => {
      const ports = new ScriptedPorts({ narrator: ['Once.'] });
      const assemble = ports.assembleContext.bind(ports);
      ports.assembleContext = async (r) => {
        if (r.append) throw new Error('role-context unavailable');
        return assemble(r);
      };
      let noted = 0;
      const outcome = await new Director(ports).run(turn({ turnPolicy: 'single' }), new AbortController().signal, { onPersonRecorded: async () => void noted++ });
      expect(outcome.reason).toBe('error');
      expect(ports.history.map((h) => h.speaker)).toEqual(['ada']);
      expect(noted).toBe(1);
    });

    it('is appended before the moderator is asked, under the selector policy', async () => {
      const ports = new ScriptedPorts({ narrator: ['critic', 'Once.'], critic: ['Twice.'] });
      await new Director(ports).run(turn({ turnPolicy: 'selector', moderator: 'narrator', maxTurnsPerMessage: 1 }), new AbortController().signal);
      expect(ports.contextRequests.every((r) => r.append === undefined)).toBe(true);
      expect(ports.history[0].speaker).toBe('ada');
    });

    it('is appended when the turn stops before any role answers', async () => {
      const ports = new ScriptedPorts({});
      const abort = new AbortController();
      abort.abort('cancelled');
      await new Director(ports).run(turn(), abort.signal);
      expect(ports.contextRequests).toHaveLength(0);
      expect(ports.history.map((h) => h.speaker)).toEqual(['ada']);
    });

    it('is not appended at all when the turn was taken over with it recorded', async () => {
      const ports = new ScriptedPorts({ narrator: ['Once.'] });
      await new Director(ports).run(turn({ turnPolicy: 'single' }), new AbortController().signal, { personRecorded: true });
      expect(ports.contextRequests[0].append).toBeUndefined();
      expect(ports.history.map((h) => h.speaker)).toEqual(['narrator']);
    });
  });

  it('round-robin: every role answers once, in order, and the turn says it completed', async () => {
    const ports = new ScriptedPorts({ narrator: ['Once upon a time.'], critic: ['Too short.'] });
    const outcome = await new Director(ports).run(turn(), new AbortController().signal);
    expect(ports.speakers()).toEqual(['narrator', 'critic']);
    expect(outcome.reason).toBe('completed');
    expect(ports.history.map((h) => [h.speakerKind, h.speaker])).toEqual([
      ['person', 'ada'],
      ['role', 'narrator'],
      ['role', 'critic'],
    ]);
    expect(ports.named('turn.end')).toEqual([expect.objectContaining({ reason: 'completed', replies: 2, usage: { promptTokens: 10, completionTokens: 6 } })]);
  });

  it('single: only the first role answers', async () => {
    const ports = new ScriptedPorts({ narrator: ['Hi.'] });
    await new Director(ports).run(turn({ turnPolicy: 'single' }), new AbortController().signal);
    expect(ports.speakers()).toEqual(['narrator']);
  });

  it('round-robin cycles up to maxTurnsPerMessage and says it hit the limit', async () => {
    const ports = new ScriptedPorts({ narrator: ['a one', 'a two'], critic: ['b one', 'b two'] });
    const outcome = await new Director(ports).run(turn({ maxTurnsPerMessage: 3 }), new AbortController().signal);
    expect(ports.speakers()).toEqual(['narrator', 'critic', 'narrator']);
    expect(outcome).toMatchObject({ reason: 'max_turns', detail: '3 replies to one message' });
  });

  it('handoff: a role passes the turn with the handoff tool, and the chain ends when nobody hands on', async () => {
    const ports = new ScriptedPorts({ narrator: [`Over to you. ${call('handoff', { to_role: 'critic', reason: 'review' })}`], critic: ['Looks fine.'] });
    const outcome = await new Director(ports).run(turn({ turnPolicy: 'handoff' }), new AbortController().signal);
    expect(ports.speakers()).toEqual(['narrator', 'critic']);
    expect(outcome.reason).toBe('completed');
    expect(ports.toolCalls).toEqual([]);
  });

  it('handoff: endless passing stops at the limit', async () => {
    const ping = call('handoff', { to_role: 'critic' });
    const pong = call('handoff', { to_role: 'narrator' });
    const ports = new ScriptedPorts({ narrator: [`1 ${ping}`, `2 ${ping}`], critic: [`3 ${pong}`, `4 ${pong}`] });
    const outcome = await new Director(ports).run(turn({ turnPolicy: 'handoff', maxTurnsPerMessage: 4 }), new AbortController().signal);
    expect(ports.speakers()).toHaveLength(4);
    expect(outcome.reason).toBe('max_turns');
  });

  it('selector: the moderator names who speaks next', async () => {
    const ports = new ScriptedPorts({ select: ['Critic please', 'Narrator'], critic: ['First.'], narrator: ['Second.'] });
    await new Director(ports).run(turn({ turnPolicy: 'selector' }), new AbortController().signal);
    expect(ports.speakers()).toEqual(['critic', 'narrator']);
  });

  it('tool loop: calls the tool, streams call and result, feeds the result back to the same role', async () => {
    const ports = new ScriptedPorts({ narrator: [`Let me add. ${call('calculator', { expression: '40+2' })}`, 'It is 42.'], critic: ['Correct.'] });
    const outcome = await new Director(ports).run(turn(), new AbortController().signal);
    expect(ports.toolCalls).toEqual([expect.objectContaining({ tool: 'calculator', argumentsJson: '{"expression":"40+2"}', roleId: 'narrator', sessionId: 's1' })]);
    expect(ports.named('tool.call')).toEqual([expect.objectContaining({ tool: 'calculator', arguments: { expression: '40+2' }, roleId: 'narrator' })]);
    expect(ports.named('tool.result')).toEqual([expect.objectContaining({ tool: 'calculator', ok: true, result: { value: 42 } })]);
    expect(ports.history.map((h) => h.speaker)).toEqual(['ada', 'narrator', 'tool.calculator', 'narrator', 'critic']);
    expect(ports.history[2].text).toBe('<tool_result>{"value":42}</tool_result>');
    expect(ports.speakers()).toEqual(['narrator', 'narrator', 'critic']);
    expect(outcome.reason).toBe('completed');
  });

  it('tells the model about a failed or malformed tool call so it can retry', async () => {
    const ports = new ScriptedPorts({ narrator: [call('broken', {}), '<tool_call>{oops</tool_call>', 'Giving up.'], critic: ['ok'] });
    await new Director(ports).run(turn(), new AbortController().signal);
    expect(ports.named('tool.result')).toEqual([expect.objectContaining({ ok: false, error: 'INVALID_ARGUMENTS: x: required' })]);
    expect(ports.history.filter((h) => h.speaker.startsWith('tool.')).map((h) => h.text)).toEqual([
      '<tool_error>INVALID_ARGUMENTS: x: required</tool_error>',
      expect.stringMatching(/^<tool_error>tool call is not JSON/),
    ]);
  });

  it('stops a role that keeps calling tools', async () => {
    const again = call('calculator', { expression: '1' });
    const ports = new ScriptedPorts({ narrator: [again, again, again, again] });
    const outcome = await new Director(ports).run(turn({ maxToolCallsPerTurn: 2 }), new AbortController().signal);
    expect(ports.toolCalls).toHaveLength(2);
    expect(outcome).toMatchObject({ reason: 'max_tool_calls', detail: 'Narrator asked for more than 2 tool calls' });
  });

  it('stops on a termination phrase, a spent token budget, a repeated exchange, or the session allowance', async () => {
    let ports = new ScriptedPorts({ narrator: ['The end. DONE'], critic: ['never'] });
    expect(await new Director(ports).run(turn({ terminationPhrases: ['done'] }), new AbortController().signal)).toMatchObject({
      reason: 'termination_phrase',
      detail: 'Narrator said "done"',
    });

    ports = new ScriptedPorts({ narrator: ['one two three four five six'], critic: ['never'] });
    const budget = await new Director(ports).run(turn({ tokenBudget: 4 }), new AbortController().signal);
    expect(budget).toMatchObject({ reason: 'token_budget' });
    expect(ports.named('reply.done')[0]).toMatchObject({ finishReason: 'length', usage: { completionTokens: 4 } });

    ports = new ScriptedPorts({ narrator: ['Same  words.'], critic: ['same words.'] });
    expect(await new Director(ports).run(turn(), new AbortController().signal)).toMatchObject({ reason: 'repeated_exchange' });

    ports = new ScriptedPorts({ narrator: ['hi'], critic: ['never'] });
    ports.budgetExhausted = 'the session generated 9 tokens this hour (limit 5)';
    expect(await new Director(ports).run(turn(), new AbortController().signal)).toMatchObject({ reason: 'session_budget', detail: ports.budgetExhausted });
  });

  it.each([
    ['interrupted', true],
    ['cancelled', true],
    ['rolled_back', false],
  ])('when %s mid-reply, keeps the partial reply in history: %s', async (reason, kept) => {
    const ports = new ScriptedPorts({ narrator: ['one two three four five'], critic: ['never'] });
    const abort = new AbortController();
    ports.onToken = (_, index) => index === 2 && abort.abort(reason);
    const outcome = await new Director(ports).run(turn(), abort.signal);
    expect(outcome.reason).toBe(reason);
    expect(ports.named('reply.done')).toEqual([expect.objectContaining({ finishReason: reason, text: 'one two three ', usage: { promptTokens: 0, completionTokens: 3 } })]);
    expect(ports.history.some((h) => h.speaker === 'narrator')).toBe(kept);
    expect(ports.speakers()).toEqual(['narrator']);
  });

  it('pauses a tool call that needs approval, and goes on once a person approves', async () => {
    const ports = new ScriptedPorts({ narrator: [call('guarded', { x: 1 }), 'Done.'], critic: ['ok'] });
    await new Director(ports).run(turn(), new AbortController().signal);
    expect(ports.approvalsAsked).toEqual(['guarded']);
    expect(ports.toolCalls.map((c) => c.approved)).toEqual([false, true]);
    expect(ports.named('tool.result')).toEqual([expect.objectContaining({ tool: 'guarded', ok: true })]);
  });

  it('feeds a refusal back to the role', async () => {
    const ports = new ScriptedPorts({ narrator: [call('guarded', { x: 1 }), 'Understood.'], critic: ['ok'] });
    ports.decision = { approved: false, by: 'ada', note: 'not now' };
    await new Director(ports).run(turn(), new AbortController().signal);
    expect(ports.toolCalls.map((c) => c.approved)).toEqual([false]);
    expect(ports.named('tool.result')).toEqual([expect.objectContaining({ ok: false, error: 'REFUSED: ada did not approve this call: not now' })]);
    expect(ports.history.find((h) => h.speaker === 'tool.guarded')?.text).toBe('<tool_error>REFUSED: ada did not approve this call: not now</tool_error>');
  });

  it('assembles with the role version the session opened with, or the latest when the session follows it', async () => {
    const pinned = new ScriptedPorts({ narrator: ['a'], critic: ['b'] });
    await new Director(pinned).run(turn(), new AbortController().signal);
    expect(pinned.contextRequests[0]).toMatchObject({ roleId: 'narrator', roleVersion: 1, followLatest: false, userId: 'u-ada' });
    const following = new ScriptedPorts({ narrator: ['a'], critic: ['b'] });
    await new Director(following).run(turn({ followLatestRoles: true }), new AbortController().signal);
    expect(following.contextRequests[0]).toMatchObject({ roleId: 'narrator', roleVersion: 0, followLatest: true });
  });

  it('queues a background run for a delegate call and tells the role its run id', async () => {
    const ports = new ScriptedPorts({ narrator: [call('delegate', { role: 'critic', task: 'review' }), 'Queued.'], critic: ['ok'] });
    await new Director(ports).run(turn(), new AbortController().signal);
    expect(ports.delegated).toEqual([{ role: 'critic', task: 'review' }]);
    expect(ports.named('tool.result')).toEqual([expect.objectContaining({ tool: 'delegate', ok: true, result: expect.objectContaining({ runId: 'run-1' }) })]);
  });
});
