/**
 * The Socket.IO chat protocol, typed both ways. docs/chat-protocol.md describes the same events;
 * the gateway and the test clients use these types so the three cannot drift apart silently.
 */

export type ChatErrorCode =
  | 'INVALID_PAYLOAD'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNKNOWN_ROLE'
  | 'UNKNOWN_SESSION'
  | 'NOT_IN_SESSION'
  | 'UPSTREAM_UNAVAILABLE'
  | 'INTERNAL';

export interface ChatError {
  code: ChatErrorCode;
  message: string;
  /** The offending field (dotted path) when one is to blame. */
  field?: string;
  /** The client event that caused it. */
  event?: string;
}

export type Ack<T> = ({ ok: true } & T) | { ok: false; error: ChatError };

export interface RoleSummary {
  id: string;
  name: string;
  version: number;
}

export interface SessionOpenPayload {
  /** Role ids of the cast, in speaking order. */
  roles: string[];
}
export interface SessionJoinPayload {
  sessionId: string;
}
export interface MessageSendPayload {
  sessionId: string;
  text: string;
}
export interface ReplyCancelPayload {
  sessionId: string;
  /** Cancels this turn only; omitted cancels whatever the session is answering. */
  turnId?: string;
}

export interface SessionInfo {
  sessionId: string;
  roles: RoleSummary[];
}

export interface ClientToServerEvents {
  'session.open': (payload: SessionOpenPayload, ack: (response: Ack<SessionInfo>) => void) => void;
  'session.join': (payload: SessionJoinPayload, ack: (response: Ack<SessionInfo>) => void) => void;
  'message.send': (payload: MessageSendPayload, ack: (response: Ack<{ turnId: string }>) => void) => void;
  'reply.cancel': (payload: ReplyCancelPayload, ack: (response: Ack<{ cancelled: number }>) => void) => void;
}

export interface UserMessageEvent {
  sessionId: string;
  turnId: string;
  author: string;
  text: string;
}

export interface ReplyStartEvent {
  sessionId: string;
  turnId: string;
  roleId: string;
  roleName: string;
}

export interface ReplyTokenEvent {
  sessionId: string;
  turnId: string;
  roleId: string;
  /** Position of the token in this reply, from 0. */
  index: number;
  text: string;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface ReplyDoneEvent {
  sessionId: string;
  turnId: string;
  roleId: string;
  roleName: string;
  text: string;
  usage: TokenUsage;
  /** "stop", "length", "cancelled" or "error". */
  finishReason: string;
  error?: ChatError;
}

export interface ServerToClientEvents {
  'message.user': (event: UserMessageEvent) => void;
  'reply.start': (event: ReplyStartEvent) => void;
  'reply.token': (event: ReplyTokenEvent) => void;
  'reply.done': (event: ReplyDoneEvent) => void;
  'chat.error': (error: ChatError) => void;
}
