import { inference, roleContext } from '@troupe/contracts';
import { ChatError, ReplyDoneEvent, RoleSummary, ServerToClientEvents } from '@troupe/domain';

/** What a turn needs from the rest of the system; Nest wires the real gRPC clients in. */
export interface TurnPorts {
  appendHistory(request: roleContext.AppendHistoryRequest): Promise<unknown>;
  assembleContext(request: roleContext.AssembleContextRequest): Promise<roleContext.AssembleContextResponse>;
  generate(request: inference.GenerateRequest, signal: AbortSignal): AsyncIterable<inference.GenerateResponse>;
  emit<E extends keyof ServerToClientEvents>(sessionId: string, event: E, payload: Parameters<ServerToClientEvents[E]>[0]): void;
}

export interface Turn {
  sessionId: string;
  turnId: string;
  author: string;
  text: string;
  roles: RoleSummary[];
}

/**
 * One human message and the replies to it: the message goes into history, then each role of
 * the cast in order gets its assembled context and streams a reply, which is stored too.
 * (Turn policies, tool loops and limits come with the director issue.)
 */
export class TurnRunner {
  constructor(
    private readonly ports: TurnPorts,
    private readonly describeError: (e: unknown) => ChatError,
  ) {}

  async run(turn: Turn, signal: AbortSignal): Promise<ReplyDoneEvent[]> {
    await this.ports.appendHistory({
      sessionId: turn.sessionId,
      entry: { id: '', speakerKind: 'person', speaker: turn.author, text: turn.text, tokenCount: 0, turnId: turn.turnId, createdAt: '' },
    });
    const replies: ReplyDoneEvent[] = [];
    for (const role of turn.roles) {
      if (signal.aborted) break;
      const reply = await this.reply(turn, role, signal);
      replies.push(reply);
      if (reply.finishReason === 'error') break;
    }
    return replies;
  }

  private async reply(turn: Turn, role: RoleSummary, signal: AbortSignal): Promise<ReplyDoneEvent> {
    const { sessionId, turnId } = turn;
    this.ports.emit(sessionId, 'reply.start', { sessionId, turnId, roleId: role.id, roleName: role.name });
    let text = '';
    let done: inference.GenerateDone | undefined;
    let error: ChatError | undefined;
    try {
      const context = await this.ports.assembleContext({ sessionId, roleId: role.id });
      const defaults = context.role?.generation;
      const stream = this.ports.generate(
        {
          requestId: `${turnId}:${role.id}`,
          model: context.role?.model ?? '',
          messages: context.messages,
          params: {
            maxNewTokens: defaults?.maxNewTokens ?? 0,
            temperature: defaults?.temperature ?? 0,
            topK: defaults?.topK ?? 0,
            topP: defaults?.topP ?? 0,
            seed: 0,
            repetitionPenalty: 0,
            stop: [],
          },
          priority: 'interactive',
          timeoutMs: 0,
        },
        signal,
      );
      for await (const chunk of stream) {
        if (chunk.token) {
          text += chunk.token.text;
          this.ports.emit(sessionId, 'reply.token', { sessionId, turnId, roleId: role.id, index: chunk.token.index, text: chunk.token.text });
        } else if (chunk.done) {
          done = chunk.done;
        }
      }
    } catch (e) {
      if (!signal.aborted) error = this.describeError(e);
    }
    const finishReason = error ? 'error' : signal.aborted ? 'cancelled' : (done?.finishReason ?? 'stop');
    const usage = { promptTokens: done?.usage?.promptTokens ?? 0, completionTokens: done?.usage?.completionTokens ?? 0 };
    if (text.length > 0) {
      // A cancelled reply keeps what was said, as the people in the room saw it.
      await this.ports.appendHistory({
        sessionId,
        entry: { id: '', speakerKind: 'role', speaker: role.id, text, tokenCount: usage.completionTokens, turnId, createdAt: '' },
      });
    }
    const event: ReplyDoneEvent = { sessionId, turnId, roleId: role.id, roleName: role.name, text, usage, finishReason, ...(error ? { error } : {}) };
    this.ports.emit(sessionId, 'reply.done', event);
    return event;
  }
}
