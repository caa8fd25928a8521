import { ClientToServerEvents, ReplyDoneEvent, ReplyTokenEvent, ServerToClientEvents, TurnEndEvent } from '@troupe/domain';
import { Socket, io } from 'socket.io-client';

export type ChatClientSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** A Socket.IO chat client for tests: connects, records every server event in order. */
export class ChatClient {
  readonly events: { event: string; payload: any }[] = [];

  private constructor(readonly socket: ChatClientSocket) {
    socket.onAny((event, payload) => this.events.push({ event, payload }));
  }

  /** `identity`: a display name (anonymous mode) or the handshake auth object (e.g. `{ token }`). */
  static async connect(url: string, identity: string | object = 'tester'): Promise<ChatClient> {
    const auth = typeof identity === 'string' ? { name: identity } : identity;
    const socket: ChatClientSocket = io(url, { auth, transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return new ChatClient(socket);
  }

  /** Emits an event and waits for its ack; `raw` lets a test send any payload at all. */
  request<T = any>(event: string, payload: unknown, timeoutMs = 10_000): Promise<T> {
    return (this.socket as unknown as { timeout(ms: number): { emitWithAck(e: string, p: unknown): Promise<T> } })
      .timeout(timeoutMs)
      .emitWithAck(event, payload);
  }

  /** Resolves with the first recorded or future event matching the predicate. */
  waitFor<T = any>(event: string, predicate: (payload: T) => boolean = () => true, timeoutMs = 30_000): Promise<T> {
    const seen = this.events.find((e) => e.event === event && predicate(e.payload));
    if (seen) return Promise.resolve(seen.payload);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.socket.offAny(listener);
        reject(new Error(`no ${event} within ${timeoutMs} ms; saw ${this.events.map((e) => e.event).join(', ')}`));
      }, timeoutMs);
      const listener = (name: string, payload: T) => {
        if (name === event && predicate(payload)) {
          clearTimeout(timer);
          this.socket.offAny(listener);
          resolve(payload);
        }
      };
      this.socket.onAny(listener);
    });
  }

  tokens(turnId: string, roleId?: string): ReplyTokenEvent[] {
    return this.events
      .filter((e) => e.event === 'reply.token' && e.payload.turnId === turnId && (!roleId || e.payload.roleId === roleId))
      .map((e) => e.payload);
  }

  /** How many tokens the reply's events carried (an event may carry several: `count`). */
  tokenCount(turnId: string, roleId?: string): number {
    return this.tokens(turnId, roleId).reduce((n, t) => n + t.count, 0);
  }

  replyDone(turnId: string, roleId: string): Promise<ReplyDoneEvent> {
    return this.waitFor<ReplyDoneEvent>('reply.done', (d) => d.turnId === turnId && d.roleId === roleId);
  }

  turnEnd(turnId: string): Promise<TurnEndEvent> {
    return this.waitFor<TurnEndEvent>('turn.end', (e) => e.turnId === turnId);
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * The `index` each token event should have if the events cover the reply's tokens in order
 * with no gap and no overlap: 0, then each event's index plus its count.
 */
export function contiguousIndexes(tokens: ReplyTokenEvent[]): number[] {
  return tokens.map((_, i) => (i === 0 ? 0 : tokens[i - 1].index + tokens[i - 1].count));
}
