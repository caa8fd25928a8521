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
  | 'RESUME_GAP'
  | 'BUSY'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'RATE_LIMITED'
  | 'UNKNOWN_APPROVAL'
  | 'SLOW_CONSUMER'
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

/** Who speaks after a person's message. */
export type TurnPolicy = 'single' | 'round-robin' | 'selector' | 'handoff';
/** What happens when a person writes while roles are still answering. */
export type ConcurrentInputPolicy = 'enqueue' | 'reject' | 'interrupt' | 'rollback';

export interface SessionPolicy {
  turnPolicy: TurnPolicy;
  concurrentInput: ConcurrentInputPolicy;
  /** Role replies per person's message (round-robin cycles through the cast up to this). */
  maxTurnsPerMessage: number;
  /** Tool calls one role may make within one reply. */
  maxToolCallsPerTurn: number;
  /** A reply containing one of these ends the turn. */
  terminationPhrases: string[];
  /** Completion tokens all roles may spend answering one message. */
  tokenBudget: number;
  /** For `selector`: the role that picks the next speaker (empty: the first role's model picks). */
  moderator: string;
  /** Roles normally stay at the version the session opened with; true follows each new version. */
  followLatestRoles: boolean;
}

export interface SessionOpenPayload {
  /** Role ids of the cast, in speaking order. */
  roles: string[];
  /** Any subset; the rest take their defaults. */
  policy?: Partial<SessionPolicy>;
}
export interface SessionJoinPayload {
  sessionId: string;
  /**
   * The last sequence number this client saw: everything after it is replayed, then the live
   * stream follows. Omitted means "from now on".
   */
  lastSeq?: number;
}
export interface MessageSendPayload {
  sessionId: string;
  text: string;
}
export interface SessionInvitePayload {
  sessionId: string;
  /** The invited person's user id (the `sub` of their token). */
  userId: string;
}

export interface ApprovalRespondPayload {
  sessionId: string;
  callId: string;
  approved: boolean;
  /** Why, shown to the role when refused. */
  note?: string;
}

export interface ReplyCancelPayload {
  sessionId: string;
  /** Cancels this turn only; omitted cancels whatever the session is answering. */
  turnId?: string;
}

export interface SessionInfo {
  sessionId: string;
  roles: RoleSummary[];
  policy: SessionPolicy;
  /** The session's newest sequence number when the ack was sent (events up to it were delivered). */
  lastSeq: number;
}

/** Every event of a session carries its per-session sequence number. */
interface Sequenced {
  seq: number;
}

export interface ClientToServerEvents {
  'session.open': (payload: SessionOpenPayload, ack: (response: Ack<SessionInfo>) => void) => void;
  'session.join': (payload: SessionJoinPayload, ack: (response: Ack<SessionInfo>) => void) => void;
  'message.send': (payload: MessageSendPayload, ack: (response: Ack<{ turnId: string }>) => void) => void;
  'reply.cancel': (payload: ReplyCancelPayload, ack: (response: Ack<{ cancelled: number }>) => void) => void;
  'session.invite': (payload: SessionInvitePayload, ack: (response: Ack<{ invited: string }>) => void) => void;
  'approval.respond': (payload: ApprovalRespondPayload, ack: (response: Ack<{ callId: string; approved: boolean }>) => void) => void;
}

export interface UserMessageEvent extends Sequenced {
  sessionId: string;
  turnId: string;
  author: string;
  text: string;
}

export interface ReplyStartEvent extends Sequenced {
  sessionId: string;
  turnId: string;
  roleId: string;
  roleName: string;
}

export interface ReplyTokenEvent extends Sequenced {
  sessionId: string;
  turnId: string;
  roleId: string;
  /** Position of the event's first token in this reply, from 0. */
  index: number;
  /**
   * How many tokens the event carries (index .. index + count - 1): tokens that arrive while
   * the previous ones are still being logged are merged into one event.
   */
  count: number;
  /** The text of those tokens, joined. */
  text: string;
}

export interface ToolCallEvent extends Sequenced {
  sessionId: string;
  turnId: string;
  roleId: string;
  callId: string;
  tool: string;
  arguments: Record<string, unknown>;
}

export interface ToolResultEvent extends Sequenced {
  sessionId: string;
  turnId: string;
  roleId: string;
  callId: string;
  tool: string;
  ok: boolean;
  /** The tool's result (JSON) when ok. */
  result?: unknown;
  error?: string;
}

/** A role wants to run a tool that needs a person's approval; the turn waits for `approval.respond`. */
export interface ApprovalRequestEvent extends ToolCallEvent {
  /** Epoch ms after which the request counts as refused. */
  expiresAt: number;
}

export interface ApprovalDecisionEvent extends Sequenced {
  sessionId: string;
  callId: string;
  approved: boolean;
  /** Who decided, or "timeout". */
  by: string;
  note: string;
}

/** What a person (or the timeout) decided about a tool call waiting for approval. */
export type ApprovalDecision = Pick<ApprovalDecisionEvent, 'approved' | 'by' | 'note'>;

/** Why the roles stopped answering a message. */
export type TurnStopReason =
  | 'completed'
  | 'max_turns'
  | 'termination_phrase'
  | 'token_budget'
  | 'max_tool_calls'
  | 'repeated_exchange'
  | 'session_budget'
  | 'cancelled'
  | 'interrupted'
  | 'rolled_back'
  | 'error';

export interface TurnEndEvent extends Sequenced {
  sessionId: string;
  turnId: string;
  reason: TurnStopReason;
  /** Human-readable detail of the reason. */
  detail: string;
  replies: number;
  usage: TokenUsage;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface ReplyDoneEvent extends Sequenced {
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
  'tool.call': (event: ToolCallEvent) => void;
  'tool.result': (event: ToolResultEvent) => void;
  'turn.end': (event: TurnEndEvent) => void;
  'approval.request': (event: ApprovalRequestEvent) => void;
  'approval.decision': (event: ApprovalDecisionEvent) => void;
  'chat.error': (error: ChatError & Partial<Sequenced>) => void;
  /** To the invited person, on whichever instance they are connected. */
  'session.invited': (event: { sessionId: string; by: string; roles: RoleSummary[] }) => void;
}

/** An event's payload as the director publishes it (the log assigns `seq`). */
export type SessionEventPayload<E extends keyof ServerToClientEvents> = Omit<Parameters<ServerToClientEvents[E]>[0], 'seq'>;
