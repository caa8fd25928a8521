import { Inject, Injectable } from '@nestjs/common';
import { ApprovalDecision, SessionEventPayload } from '@troupe/domain';
import { REDIS, Redis, RedisSubscriber, prefixedChannel } from '@troupe/redis';
import { Principal } from '../auth/principal';
import { ChatException } from '../chat/chat.exception';
import { SessionEventsService } from '../events/session-events.service';
import { SessionConfig } from '../session.config';
import { SessionsService } from '../sessions/sessions.service';

/** The tool call to approve, as the room saw it in `tool.call`. */
export type ApprovalRequest = SessionEventPayload<'tool.call'>;

/**
 * Tool calls waiting for a person's approval. The request lives in Redis and in the session's
 * event log, so it survives a reconnect and can be answered on any instance (socket or REST);
 * the decision reaches the waiting director over pub/sub. No answer in time counts as a refusal.
 */
@Injectable()
export class ApprovalsService {
  private readonly waiting = new Map<string, (decision: ApprovalDecision) => void>();
  private subscribed?: Promise<void>;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly events: SessionEventsService,
    private readonly sessions: SessionsService,
    private readonly config: SessionConfig,
    private readonly subscriber: RedisSubscriber,
  ) {}

  /** Publishes the request and resolves with the decision (a refusal on timeout or abort). */
  async request(request: ApprovalRequest, signal: AbortSignal): Promise<ApprovalDecision> {
    await this.listen();
    const key = this.key(request.sessionId, request.callId);
    const expiresAt = Date.now() + this.config.APPROVAL_TIMEOUT_MS;
    await this.redis.hset(key, { status: 'pending', turnId: request.turnId, tool: request.tool });
    await this.redis.pexpire(key, this.config.APPROVAL_TIMEOUT_MS + 60_000);
    const decided = new Promise<ApprovalDecision>((resolve) => this.waiting.set(request.callId, resolve));
    this.events.publish(request.sessionId, 'approval.request', { ...request, expiresAt });
    let timer: NodeJS.Timeout | undefined;
    const refusedBy = (by: string, note: string) =>
      new Promise<ApprovalDecision>((resolve) => {
        if (by === 'timeout') timer = setTimeout(() => resolve({ approved: false, by, note }), this.config.APPROVAL_TIMEOUT_MS);
        else signal.addEventListener('abort', () => resolve({ approved: false, by, note }), { once: true });
      });
    const decision = await Promise.race([
      decided,
      refusedBy('timeout', `no answer within ${Math.round(this.config.APPROVAL_TIMEOUT_MS / 1000)} s`),
      refusedBy('cancel', 'the turn was stopped'),
    ]);
    clearTimeout(timer);
    this.waiting.delete(request.callId);
    if (decision.by === 'timeout' || decision.by === 'cancel') {
      // Close the request for everyone unless a person answered at the same moment.
      const closed = await this.redis.hsetnx(key, 'decidedBy', decision.by);
      if (closed === 1) {
        await this.redis.hset(key, 'status', 'refused');
        this.events.publish(request.sessionId, 'approval.decision', { sessionId: request.sessionId, callId: request.callId, ...decision });
      }
    }
    return decision;
  }

  /** A person's answer, from a socket or REST; only someone who may take part in the session may answer. */
  async respond(sessionId: string, callId: string, approved: boolean, note: string, principal: Principal): Promise<void> {
    await this.sessions.getForParticipant(sessionId, principal);
    const key = this.key(sessionId, callId);
    // First answer wins, across instances.
    const first = await this.redis.hsetnx(key, 'decidedBy', principal.name);
    const exists = await this.redis.hexists(key, 'status');
    if (!exists) {
      await this.redis.del(key);
      throw new ChatException('UNKNOWN_APPROVAL', `no tool call "${callId}" is waiting for approval in this session`, 'callId');
    }
    if (first !== 1) throw new ChatException('UNKNOWN_APPROVAL', `tool call "${callId}" was already decided`, 'callId');
    await this.redis.hset(key, 'status', approved ? 'approved' : 'refused');
    const decision: ApprovalDecision = { approved, by: principal.name, note };
    this.events.publish(sessionId, 'approval.decision', { sessionId, callId, ...decision });
    await this.redis.publish(this.channel(), JSON.stringify({ callId, ...decision }));
  }

  private listen(): Promise<void> {
    this.subscribed ??= this.subscriber.subscribe(this.channel(), (message) => {
      const { callId, ...decision } = JSON.parse(message) as ApprovalDecision & { callId: string };
      this.waiting.get(callId)?.(decision);
    });
    return this.subscribed;
  }

  private channel(): string {
    return prefixedChannel(this.redis, 'approval-decisions');
  }

  private key(sessionId: string, callId: string): string {
    return `approval:${sessionId}:${callId}`;
  }
}
