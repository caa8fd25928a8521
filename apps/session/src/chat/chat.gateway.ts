import { Inject, UseInterceptors } from '@nestjs/common';
import {
  ConnectedSocket,
  MessageBody,
  OnGatewayConnection,
  OnGatewayDisconnect,
  OnGatewayInit,
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer,
} from '@nestjs/websockets';
import { Ack, ClientToServerEvents, ServerToClientEvents, SessionInfo } from '@troupe/domain';
import { GrpcCallError } from '@troupe/grpc';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { MetricsService } from '@troupe/metrics';
import { randomUUID } from 'node:crypto';
import type { Server, Socket } from 'socket.io';
import { ApprovalsService } from '../approvals/approvals.service';
import { AuthService } from '../auth/auth.service';
import { Principal } from '../auth/principal';
import { RateLimiter } from '../auth/rate-limiter';
import { AuthError } from '../auth/token-verifier';
import { DirectorService } from '../director/director.service';
import { resolvePolicy } from '../director/session-policy';
import { DeliveryTarget } from '../events/event-delivery';
import { SessionEventsService } from '../events/session-events.service';
import { SessionConfig } from '../session.config';
import { ChatSession } from '../sessions/sessions.repository';
import { SessionsService } from '../sessions/sessions.service';
import { ChatException } from './chat.exception';
import { ChatTracingInterceptor } from './chat-tracing.interceptor';
import { validateChatPayload } from './chat-payload.validator';
import { ApprovalRespondDto, MessageSendDto, ReplyCancelDto, SessionInviteDto, SessionJoinDto, SessionOpenDto } from './dto/chat-payloads.dto';

type ChatSocket = Socket<ClientToServerEvents, ServerToClientEvents, Record<string, never>, { principal: Principal }>;

/** The chat protocol (docs/chat-protocol.md): validates each event and hands it to a service. */
@WebSocketGateway()
@UseInterceptors(ChatTracingInterceptor)
export class ChatGateway implements OnGatewayInit, OnGatewayConnection, OnGatewayDisconnect {
  @WebSocketServer()
  private readonly server!: Server;

  private readonly eventCounter;

  constructor(
    private readonly sessions: SessionsService,
    private readonly director: DirectorService,
    private readonly events: SessionEventsService,
    private readonly config: SessionConfig,
    private readonly auth: AuthService,
    private readonly rateLimiter: RateLimiter,
    private readonly approvals: ApprovalsService,
    metrics: MetricsService,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.eventCounter = metrics.counter('troupe_socket_events_total', 'Chat events received, by event and outcome', ['event', 'outcome']);
  }

  /** Every connection authenticates in the handshake (`auth: { token }` or an Authorization header). */
  afterInit(server: Server): void {
    server.use((socket, next) => {
      const handshake = socket.handshake;
      const header = handshake.headers.authorization ?? '';
      const token = (handshake.auth as { token?: unknown }).token ?? (header.startsWith('Bearer ') ? header.slice(7) : undefined);
      this.auth
        .authenticate(typeof token === 'string' ? token : undefined, (handshake.auth as { name?: unknown }).name)
        .then((principal) => {
          socket.data.principal = principal;
          next();
        })
        .catch((e: unknown) => {
          const error = new Error(e instanceof AuthError ? e.message : 'authentication failed') as Error & { data: object };
          error.data = { code: 'UNAUTHENTICATED' };
          next(error);
        });
    });
  }

  /** Each person has a room of their own, reachable from every instance (invitations). */
  async handleConnection(socket: ChatSocket): Promise<void> {
    await socket.join(userRoom(socket.data.principal.userId));
  }

  handleDisconnect(socket: ChatSocket): void {
    this.events.detach(socket.id);
  }

  @SubscribeMessage('session.open')
  openSession(@ConnectedSocket() socket: ChatSocket, @MessageBody() payload: unknown): Promise<Ack<SessionInfo>> {
    return this.handle(socket, 'session.open', async () => {
      const { roles, policy } = validateChatPayload(SessionOpenDto, payload, this.config.MAX_EVENT_BYTES);
      const session = await this.sessions.open(roles, resolvePolicy(policy), socket.data.principal);
      await this.events.attach(deliveryTarget(socket), session.id, 0);
      return info(session, await this.events.lastSeq(session.id));
    });
  }

  @SubscribeMessage('session.join')
  joinSession(@ConnectedSocket() socket: ChatSocket, @MessageBody() payload: unknown): Promise<Ack<SessionInfo>> {
    return this.handle(socket, 'session.join', async () => {
      const { sessionId, lastSeq } = validateChatPayload(SessionJoinDto, payload, this.config.MAX_EVENT_BYTES);
      const session = await this.sessions.getForParticipant(sessionId, socket.data.principal);
      const newest = await this.events.lastSeq(session.id);
      if (lastSeq !== undefined && lastSeq > newest) {
        throw new ChatException('INVALID_PAYLOAD', `lastSeq ${lastSeq} is ahead of the session (${newest})`, 'lastSeq');
      }
      await this.events.attach(deliveryTarget(socket), session.id, lastSeq ?? newest);
      return info(session, await this.events.lastSeq(session.id));
    });
  }

  @SubscribeMessage('message.send')
  sendMessage(@ConnectedSocket() socket: ChatSocket, @MessageBody() payload: unknown): Promise<Ack<{ turnId: string }>> {
    return this.handle(socket, 'message.send', async () => {
      const { sessionId, text } = validateChatPayload(MessageSendDto, payload, this.config.MAX_EVENT_BYTES);
      // One Redis round trip for both (they go out pipelined), not two on the way to the first token.
      const [session, waitMs] = await Promise.all([this.sessions.get(sessionId), this.rateLimiter.hit(socket.data.principal.userId)]);
      this.requireMember(socket, sessionId);
      if (waitMs > 0) {
        throw new ChatException('RATE_LIMITED', `at most ${this.config.RATE_LIMIT_MESSAGES_PER_MINUTE} messages a minute; retry in ${Math.ceil(waitMs / 1000)} s`);
      }
      const person = socket.data.principal.name;
      const turnId = randomUUID();
      // The policy may refuse the message (BUSY) before anyone sees it.
      await this.director.submit({ sessionId, turnId, author: person, authorId: socket.data.principal.userId, text, roles: session.roles, policy: session.policy });
      return { turnId };
    });
  }

  @SubscribeMessage('reply.cancel')
  cancelReply(@ConnectedSocket() socket: ChatSocket, @MessageBody() payload: unknown): Promise<Ack<{ cancelled: number }>> {
    return this.handle(socket, 'reply.cancel', async () => {
      const { sessionId, turnId } = validateChatPayload(ReplyCancelDto, payload, this.config.MAX_EVENT_BYTES);
      this.requireMember(socket, sessionId);
      return { cancelled: await this.director.cancel(sessionId, turnId) };
    });
  }

  @SubscribeMessage('session.invite')
  invite(@ConnectedSocket() socket: ChatSocket, @MessageBody() payload: unknown): Promise<Ack<{ invited: string }>> {
    return this.handle(socket, 'session.invite', async () => {
      const { sessionId, userId } = validateChatPayload(SessionInviteDto, payload, this.config.MAX_EVENT_BYTES);
      await this.sessions.invite(sessionId, socket.data.principal, userId);
      const session = await this.sessions.get(sessionId);
      this.server.to(userRoom(userId)).emit('session.invited', { sessionId, by: socket.data.principal.name, roles: session.roles });
      return { invited: userId };
    });
  }

  @SubscribeMessage('approval.respond')
  respondToApproval(@ConnectedSocket() socket: ChatSocket, @MessageBody() payload: unknown): Promise<Ack<{ callId: string; approved: boolean }>> {
    return this.handle(socket, 'approval.respond', async () => {
      const { sessionId, callId, approved, note } = validateChatPayload(ApprovalRespondDto, payload, this.config.MAX_EVENT_BYTES);
      await this.approvals.respond(sessionId, callId, approved, note ?? '', socket.data.principal);
      return { callId, approved };
    });
  }

  private requireMember(socket: ChatSocket, sessionId: string): void {
    if (!this.events.isMember(socket.id, sessionId)) {
      throw new ChatException('NOT_IN_SESSION', 'open or join the session first', 'sessionId');
    }
  }

  /** Runs one event; any failure becomes an error ack plus a `chat.error` event, never a dropped connection. */
  private async handle<T extends object>(socket: ChatSocket, event: string, fn: () => Promise<T>): Promise<Ack<T>> {
    try {
      const result = await fn();
      this.eventCounter.inc({ event, outcome: 'ok' });
      return { ok: true, ...result };
    } catch (e) {
      const error =
        e instanceof ChatException
          ? e.toChatError(event)
          : e instanceof GrpcCallError
            ? { code: 'UPSTREAM_UNAVAILABLE' as const, message: e.message, event }
            : { code: 'INTERNAL' as const, message: 'internal error', event };
      if (!(e instanceof ChatException)) this.logger.error({ err: e, event }, 'chat event failed');
      this.eventCounter.inc({ event, outcome: error.code });
      socket.emit('chat.error', error);
      return { ok: false, error };
    }
  }
}

const userRoom = (userId: string) => `user:${userId}`;

function info(session: ChatSession, lastSeq: number): SessionInfo {
  return { sessionId: session.id, roles: session.roles, policy: session.policy, lastSeq };
}

/** A socket as event delivery sees it: emit, its unsent backlog, and how to drop it. */
function deliveryTarget(socket: ChatSocket): DeliveryTarget {
  return {
    id: socket.id,
    emit: (event, payload) => (socket.emit as (e: string, p: object) => void)(event, payload),
    // engine.io's queue of packets not yet handed to the transport (private in its typings).
    pendingPackets: () => (socket.conn as unknown as { writeBuffer: unknown[] }).writeBuffer.length,
    waitForDrain: (timeoutMs) =>
      new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => {
          socket.conn.off('drain', onDrain);
          resolve(false);
        }, timeoutMs);
        const onDrain = () => {
          clearTimeout(timer);
          resolve(true);
        };
        socket.conn.once('drain', onDrain);
      }),
    dropAsSlow: (reason) => {
      socket.emit('chat.error', { code: 'SLOW_CONSUMER', message: `${reason}; reconnect and resume from your last seq` });
      socket.disconnect(true);
    },
  };
}
