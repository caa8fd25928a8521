import { inference, roleContext, tokenDeltaCount, toolPlugin } from '@troupe/contracts';
import {
  ApprovalDecision,
  ChatError,
  RoleSummary,
  ServerToClientEvents,
  SessionEventPayload,
  SessionPolicy,
  TokenUsage,
  TurnStopReason,
} from '@troupe/domain';
import { inSpan } from '@troupe/tracing';
import { SPEAKER_PICKERS, SpeakerState, findNamedRole, maxReplies } from './speaker-selection';
import { parseToolCall } from './tool-call-parser';

/** What the director needs from the rest of the system; Nest wires the real gRPC clients in. */
export interface DirectorPorts {
  appendHistory(request: roleContext.AppendHistoryRequest): Promise<unknown>;
  assembleContext(request: roleContext.AssembleContextRequest): Promise<roleContext.AssembleContextResponse>;
  generate(request: inference.GenerateRequest, signal: AbortSignal): AsyncIterable<inference.GenerateResponse>;
  invokeTool(request: toolPlugin.InvokeToolRequest, signal: AbortSignal): Promise<toolPlugin.InvokeToolResponse>;
  emit<E extends keyof ServerToClientEvents>(sessionId: string, event: E, payload: SessionEventPayload<E>): void;
  /** Charges the session's hourly allowance; returns why it is exhausted, or undefined. */
  chargeSession(sessionId: string, tokens: number, toolCalls: number): Promise<string | undefined>;
  describeError(e: unknown): ChatError;
  /** Asks the session's people to approve a tool call; resolves with their decision. */
  awaitApproval(request: SessionEventPayload<'tool.call'>, signal: AbortSignal): Promise<ApprovalDecision>;
  /** Starts a background run for a `delegate` call made in a chat; its result is announced in the session. */
  delegate?(request: { sessionId: string; turnId: string; callId: string; role: string; task: string }): Promise<{ runId: string }>;
}

export interface Turn {
  sessionId: string;
  turnId: string;
  author: string;
  /** The author's user id, for user-scoped memory and grants. */
  authorId: string;
  text: string;
  roles: RoleSummary[];
  policy: SessionPolicy;
}

export interface TurnOutcome {
  reason: TurnStopReason;
  detail: string;
  replies: SessionEventPayload<'reply.done'>[];
  usage: TokenUsage;
}

/** Why an abort happened decides whether a partial reply is kept (interrupt) or dropped (rollback). */
export type AbortReason = 'cancelled' | 'interrupted' | 'rolled_back';

interface ReplyResult {
  done: SessionEventPayload<'reply.done'>;
  handoffTo?: string;
  stop?: { reason: TurnStopReason; detail: string };
}

const SELECTOR_INSTRUCTION = (names: string) =>
  `You moderate this conversation. Who should speak next: ${names}? Answer with one name only.`;

/** A turn's opening message on its way into history (see runTurn). */
interface Opening {
  /** Still to be appended: the first context request of the turn carries it. */
  entry?: roleContext.HistoryEntry;
  onRecorded?: () => Promise<void>;
  /** Set once it is appended: the caller noting so. */
  noted?: Promise<void>;
}

/**
 * The turn engine, free of sockets and Nest so sessions with no person (background agents)
 * run it too. One person's message goes into history; then roles reply as the session's turn
 * policy says, each reply may call tools (fed back to the same role), and the turn stops at
 * the first limit reached — every stop says why.
 */
export class Director {
  /** Per running turn (one Director serves many at once). */
  private readonly openings = new WeakMap<Turn, Opening>();

  constructor(private readonly ports: DirectorPorts) {}

  /**
   * `personRecorded`: the person's message is already in history (a turn taken over from an
   * instance that died); `onPersonRecorded` lets the caller note that it now is.
   */
  run(turn: Turn, signal: AbortSignal, options: { personRecorded?: boolean; onPersonRecorded?: () => Promise<void> } = {}): Promise<TurnOutcome> {
    const attributes = { 'troupe.session.id': turn.sessionId, 'troupe.turn.id': turn.turnId, 'troupe.turn.policy': turn.policy.turnPolicy };
    return inSpan('director.turn', { attributes }, async (span) => {
      const outcome = await this.runTurn(turn, signal, options);
      span.setAttributes({ 'troupe.turn.stop_reason': outcome.reason, 'troupe.turn.replies': outcome.replies.length });
      return outcome;
    });
  }

  private async runTurn(
    turn: Turn,
    signal: AbortSignal,
    options: { personRecorded?: boolean; onPersonRecorded?: () => Promise<void> },
  ): Promise<TurnOutcome> {
    const { sessionId, turnId, policy } = turn;
    if (!options.personRecorded) {
      const entry: roleContext.HistoryEntry = { id: '', speakerKind: 'person', speaker: turn.author, text: turn.text, tokenCount: 0, turnId, createdAt: '', toolCallsJson: '' };
      if (policy.turnPolicy === 'selector') {
        // The moderator's context comes first and must show the message.
        await this.recordPerson(sessionId, entry, options.onPersonRecorded);
      } else {
        // Rides on the first reply's context request: one call to role-context fewer on the way
        // to the first token.
        this.openings.set(turn, { entry, onRecorded: options.onPersonRecorded });
      }
    }
    try {
      return await this.takeTurns(turn, signal);
    } finally {
      await this.settleOpening(turn);
    }
  }

  /**
   * The person's message is in history when the turn ends: appended now if no context request
   * carried it (the turn stopped first, or that request failed), and noted as recorded.
   */
  private async settleOpening(turn: Turn): Promise<void> {
    const opening = this.openings.get(turn);
    if (!opening) return;
    this.openings.delete(turn);
    if (opening.entry) await this.recordPerson(turn.sessionId, opening.entry, opening.onRecorded);
    await opening.noted;
  }

  /** Appends the person's message on its own, then notes it recorded. */
  private async recordPerson(sessionId: string, entry: roleContext.HistoryEntry, onRecorded?: () => Promise<void>): Promise<void> {
    await this.ports.appendHistory({ sessionId, entry });
    await onRecorded?.();
  }

  private async takeTurns(turn: Turn, signal: AbortSignal): Promise<TurnOutcome> {
    const { sessionId, turnId, policy } = turn;
    const usage: TokenUsage = { promptTokens: 0, completionTokens: 0 };
    const state: SpeakerState = { roles: turn.roles, spoken: [] };
    const replies: SessionEventPayload<'reply.done'>[] = [];
    const limit = maxReplies(policy, turn.roles.length);
    let stop: { reason: TurnStopReason; detail: string } = { reason: 'completed', detail: 'every speaker the policy picked has answered' };

    for (;;) {
      if (signal.aborted) {
        stop = { reason: abortReason(signal), detail: 'stopped by a person' };
        break;
      }
      if (state.spoken.length >= limit) {
        // Only a stop that cut the conversation short counts as hitting the limit.
        const wantedMore =
          policy.turnPolicy === 'handoff'
            ? Boolean(state.spoken[state.spoken.length - 1]?.handoffTo)
            : policy.turnPolicy !== 'single' && policy.maxTurnsPerMessage > 0;
        if (wantedMore) stop = { reason: 'max_turns', detail: `${limit} replies to one message` };
        break;
      }
      if (policy.turnPolicy === 'selector') state.selected = await this.select(turn, signal);
      const speaker = SPEAKER_PICKERS[policy.turnPolicy](state);
      if (!speaker) break;
      const remaining = policy.tokenBudget - usage.completionTokens;
      const result = await this.reply(turn, speaker, remaining, usage, signal);
      replies.push(result.done);
      state.spoken.push({ roleId: speaker.id, handoffTo: result.handoffTo });
      if (result.stop) {
        stop = result.stop;
        break;
      }
      if (result.done.finishReason === 'error') {
        stop = { reason: 'error', detail: result.done.error?.message ?? 'reply failed' };
        break;
      }
      const repeated = replies.slice(0, -1).some((r) => normalise(r.text) !== '' && normalise(r.text) === normalise(result.done.text));
      if (repeated) {
        stop = { reason: 'repeated_exchange', detail: `${speaker.name} repeated an earlier reply` };
        break;
      }
      const phrase = policy.terminationPhrases.find((p) => result.done.text.toLowerCase().includes(p.toLowerCase()));
      if (phrase) {
        stop = { reason: 'termination_phrase', detail: `${speaker.name} said "${phrase}"` };
        break;
      }
      if (usage.completionTokens >= policy.tokenBudget) {
        stop = { reason: 'token_budget', detail: `${usage.completionTokens} of ${policy.tokenBudget} tokens used` };
        break;
      }
      const exhausted = await this.ports.chargeSession(sessionId, result.done.usage.completionTokens, 0);
      if (exhausted) {
        stop = { reason: 'session_budget', detail: exhausted };
        break;
      }
    }
    this.ports.emit(sessionId, 'turn.end', { sessionId, turnId, reason: stop.reason, detail: stop.detail, replies: replies.length, usage });
    return { ...stop, replies, usage };
  }

  /** One role's reply, looping through its tool calls (each result goes back to the same role). */
  private reply(turn: Turn, role: RoleSummary, tokenAllowance: number, usage: TokenUsage, signal: AbortSignal): Promise<ReplyResult> {
    return inSpan('director.reply', { attributes: { 'troupe.role.id': role.id } }, async (span) => {
      const result = await this.replyWithTools(turn, role, tokenAllowance, usage, signal);
      span.setAttributes({ 'troupe.reply.finish_reason': result.done.finishReason, 'troupe.reply.completion_tokens': result.done.usage.completionTokens });
      return result;
    });
  }

  private async replyWithTools(turn: Turn, role: RoleSummary, tokenAllowance: number, usage: TokenUsage, signal: AbortSignal): Promise<ReplyResult> {
    for (let toolCalls = 0; ; toolCalls++) {
      const done = await this.stream(turn, role, tokenAllowance - usage.completionTokens, signal);
      usage.promptTokens += done.usage.promptTokens;
      usage.completionTokens += done.usage.completionTokens;
      if (done.finishReason === 'error' || signal.aborted) return { done };
      const parsed = parseToolCall(done.text);
      if (parsed.kind === 'none') return { done };
      if (parsed.kind === 'call' && parsed.call.name === 'handoff') {
        return { done, handoffTo: String(parsed.call.arguments.to_role ?? parsed.call.arguments.role ?? '') };
      }
      if (toolCalls >= turn.policy.maxToolCallsPerTurn) {
        return { done, stop: { reason: 'max_tool_calls', detail: `${role.name} asked for more than ${turn.policy.maxToolCallsPerTurn} tool calls` } };
      }
      const exhausted = await this.ports.chargeSession(turn.sessionId, 0, 1);
      if (exhausted) return { done, stop: { reason: 'session_budget', detail: exhausted } };
      if (parsed.kind === 'malformed') {
        await this.recordToolOutcome(turn, role, 'invalid', { ok: false, error: parsed.problem });
        continue;
      }
      await this.callTool(turn, role, parsed.call.name, parsed.call.arguments, `${turn.turnId}:${role.id}:${toolCalls}`, signal);
    }
  }

  private callTool(turn: Turn, role: RoleSummary, tool: string, args: Record<string, unknown>, callId: string, signal: AbortSignal): Promise<void> {
    // Its own span: an approval may hold the call for minutes, apart from the gRPC calls.
    return inSpan('director.tool_call', { attributes: { 'troupe.tool.name': tool, 'troupe.tool.call_id': callId } }, () =>
      this.callToolAndRecord(turn, role, tool, args, callId, signal),
    );
  }

  private async callToolAndRecord(turn: Turn, role: RoleSummary, tool: string, args: Record<string, unknown>, callId: string, signal: AbortSignal): Promise<void> {
    const { sessionId, turnId } = turn;
    const call: SessionEventPayload<'tool.call'> = { sessionId, turnId, roleId: role.id, callId, tool, arguments: args };
    this.ports.emit(sessionId, 'tool.call', call);
    let outcome: { ok: boolean; result?: unknown; error?: string };
    try {
      const invoke = (approved: boolean) =>
        this.ports.invokeTool({ callId, tool, argumentsJson: JSON.stringify(args), roleId: role.id, sessionId, turnId, userId: turn.authorId, approved }, signal);
      let response = await invoke(false);
      if (!response.ok && response.error.startsWith('APPROVAL_REQUIRED')) {
        // The turn pauses here until a person answers (or the wait times out).
        const decision = await this.ports.awaitApproval(call, signal);
        response = decision.approved
          ? await invoke(true)
          : { ...response, error: `REFUSED: ${decision.by} did not approve this call${decision.note ? `: ${decision.note}` : ''}` };
      }
      outcome = response.ok ? { ok: true, result: JSON.parse(response.resultJson || 'null') } : { ok: false, error: response.error };
      outcome = await this.carryOutDelegation(turn, tool, callId, outcome);
    } catch (e) {
      outcome = { ok: false, error: this.ports.describeError(e).message };
    }
    this.ports.emit(sessionId, 'tool.result', { sessionId, turnId, roleId: role.id, callId, tool, ...outcome });
    await this.recordToolOutcome(turn, role, tool, outcome);
  }

  /**
   * `delegate` answers with a directive; in a chat the director queues the background run
   * (a run that already carries a run id was queued by whoever runs this director).
   */
  private async carryOutDelegation(
    turn: Turn,
    tool: string,
    callId: string,
    outcome: { ok: boolean; result?: unknown; error?: string },
  ): Promise<{ ok: boolean; result?: unknown; error?: string }> {
    const directive = outcome.result as { directive?: string; role?: string; task?: string; runId?: string } | null | undefined;
    if (tool !== 'delegate' || !outcome.ok || !this.ports.delegate || directive?.directive !== 'delegate' || directive.runId) return outcome;
    if (!directive.role || !directive.task) return { ok: false, error: 'INVALID_ARGUMENTS: delegate needs a role and a task' };
    const { runId } = await this.ports.delegate({ sessionId: turn.sessionId, turnId: turn.turnId, callId, role: directive.role, task: directive.task });
    return { ok: true, result: { ...directive, runId, instruction: 'queued: its result is announced in this session when it finishes' } };
  }

  /** The tool's answer goes into history so the role sees it on its next generation. */
  private async recordToolOutcome(turn: Turn, role: RoleSummary, tool: string, outcome: { ok: boolean; result?: unknown; error?: string }) {
    const text = outcome.ok ? `<tool_result>${JSON.stringify(outcome.result)}</tool_result>` : `<tool_error>${outcome.error}</tool_error>`;
    await this.ports.appendHistory({
      sessionId: turn.sessionId,
      entry: { id: '', speakerKind: 'role', speaker: `tool.${tool}`, text, tokenCount: 0, turnId: turn.turnId, createdAt: '', toolCallsJson: '' },
    });
  }

  /** Streams one generation to the room; stores it unless it was rolled back. */
  private async stream(turn: Turn, role: RoleSummary, tokenAllowance: number, signal: AbortSignal): Promise<SessionEventPayload<'reply.done'>> {
    const { sessionId, turnId } = turn;
    this.ports.emit(sessionId, 'reply.start', { sessionId, turnId, roleId: role.id, roleName: role.name });
    let text = '';
    let streamed = 0;
    let done: inference.GenerateDone | undefined;
    let error: ChatError | undefined;
    // The turn's opening message, when it still waits to be appended: the first context asks for it.
    const opening = this.openings.get(turn);
    const append = opening?.entry;
    if (opening) opening.entry = undefined;
    try {
      const context = await this.ports.assembleContext({
        sessionId,
        roleId: role.id,
        // Pinned to the version the session opened with, unless the session follows the latest.
        roleVersion: turn.policy.followLatestRoles ? 0 : role.version,
        followLatest: turn.policy.followLatestRoles,
        userId: turn.authorId,
        variables: {},
        append,
      });
      if (append && opening) {
        // Noted while the reply streams; the turn waits for it (and its failure) before it ends.
        opening.noted = opening.onRecorded?.() ?? Promise.resolve();
        opening.noted.catch(() => undefined);
      }
      const defaults = context.role?.generation;
      const maxNewTokens = Math.max(1, Math.min(defaults?.maxNewTokens || tokenAllowance, tokenAllowance));
      for await (const chunk of this.ports.generate(
        {
          requestId: `${turnId}:${role.id}`,
          model: context.role?.model ?? '',
          messages: context.messages,
          params: {
            maxNewTokens,
            temperature: defaults?.temperature ?? 0,
            topK: defaults?.topK ?? 0,
            topP: defaults?.topP ?? 0,
            seed: 0,
            repetitionPenalty: 0,
            stop: [],
          },
          priority: 'interactive',
          timeoutMs: 0,
          streamIntervalMs: 0,
        },
        signal,
      )) {
        if (chunk.token) {
          // A delta may carry several tokens: handed on as one text chunk, counted in full.
          text += chunk.token.text;
          const count = tokenDeltaCount(chunk.token);
          streamed += count;
          this.ports.emit(sessionId, 'reply.token', { sessionId, turnId, roleId: role.id, index: chunk.token.index, count, text: chunk.token.text });
        } else if (chunk.done) {
          done = chunk.done;
        }
      }
    } catch (e) {
      if (!signal.aborted) error = this.ports.describeError(e);
      // Not known to be written: appended when the turn ends (role-context checks a request
      // before it writes, so a refusal never leaves it written).
      if (append && opening && opening.noted === undefined) opening.entry = append;
    }
    const finishReason = error ? 'error' : signal.aborted ? abortReason(signal) : (done?.finishReason ?? 'stop');
    const usage = { promptTokens: done?.usage?.promptTokens ?? 0, completionTokens: done?.usage?.completionTokens ?? streamed };
    if (text.length > 0 && finishReason !== 'rolled_back') {
      // An interrupted or cancelled reply keeps what was said, as the people in the room saw it.
      await this.ports.appendHistory({
        sessionId,
        entry: { id: '', speakerKind: 'role', speaker: role.id, text, tokenCount: usage.completionTokens, turnId, createdAt: '', toolCallsJson: '' },
      });
    }
    const event: SessionEventPayload<'reply.done'> = { sessionId, turnId, roleId: role.id, roleName: role.name, text, usage, finishReason, ...(error ? { error } : {}) };
    this.ports.emit(sessionId, 'reply.done', event);
    return event;
  }

  /** Asks the moderator (or the first role's model) who speaks next; unparseable answers fall back to order. */
  private async select(turn: Turn, signal: AbortSignal): Promise<RoleSummary | undefined> {
    const moderator = turn.policy.moderator || turn.roles[0].id;
    try {
      const context = await this.ports.assembleContext({ sessionId: turn.sessionId, roleId: moderator, roleVersion: 0, followLatest: true, userId: turn.authorId, variables: {}, append: undefined });
      const names = turn.roles.map((r) => r.name).join(', ');
      let answer = '';
      for await (const chunk of this.ports.generate(
        {
          requestId: `${turn.turnId}:select`,
          model: context.role?.model ?? '',
          messages: [...context.messages, { role: 'user', name: 'director', content: SELECTOR_INSTRUCTION(names) }],
          params: { maxNewTokens: 8, temperature: 0, topK: 0, topP: 0, seed: 0, repetitionPenalty: 0, stop: [] },
          priority: 'interactive',
          timeoutMs: 0,
          streamIntervalMs: 0,
        },
        signal,
      )) {
        if (chunk.token) answer += chunk.token.text;
      }
      return findNamedRole(turn.roles, answer);
    } catch {
      return undefined;
    }
  }
}

function abortReason(signal: AbortSignal): AbortReason {
  const reason = signal.reason as unknown;
  return reason === 'interrupted' || reason === 'rolled_back' ? reason : 'cancelled';
}

function normalise(text: string): string {
  return text.toLowerCase().replace(/\s+/g, ' ').trim();
}
