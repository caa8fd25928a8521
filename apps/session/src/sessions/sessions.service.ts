import { Injectable } from '@nestjs/common';
import { GrpcCallError, GrpcStatus } from '@troupe/grpc';
import { RoleSummary, SessionPolicy } from '@troupe/domain';
import { randomUUID } from 'node:crypto';
import { Principal } from '../auth/principal';
import { ChatException } from '../chat/chat.exception';
import { RoleContextClient } from '../peers/role-context.client';
import { SessionConfig } from '../session.config';
import { ChatSession, SessionsRepository } from './sessions.repository';

@Injectable()
export class SessionsService {
  constructor(
    private readonly repository: SessionsRepository,
    private readonly roleContext: RoleContextClient,
    private readonly config: SessionConfig,
  ) {}

  /** Opens a session with a cast of roles; every role must exist (pinned at its current version). */
  async open(roleIds: string[], policy: SessionPolicy, owner: Principal): Promise<ChatSession> {
    if (roleIds.length > this.config.MAX_ROLES_PER_SESSION) {
      throw new ChatException('INVALID_PAYLOAD', `at most ${this.config.MAX_ROLES_PER_SESSION} roles per session`, 'roles');
    }
    const roles: RoleSummary[] = [];
    for (const [i, id] of roleIds.entries()) roles.push(await this.requireRole(id, `roles[${i}]`));
    if (policy.moderator && !roles.some((r) => r.id === policy.moderator)) {
      await this.requireRole(policy.moderator, 'policy.moderator');
    }
    return this.openWithRoles(roles, policy, owner);
  }

  /** Opens a session with a cast whose roles the caller has just looked up (a background run). */
  /** `id`: chosen by the caller when it must know it before the session is written (agent runs). */
  async openWithRoles(roles: RoleSummary[], policy: SessionPolicy, owner: Principal, id: string = randomUUID()): Promise<ChatSession> {
    const session: ChatSession = { id, roles, policy, createdAt: Date.now(), owner: owner.userId, createdBy: owner.name };
    await this.repository.create(session);
    return session;
  }

  private async requireRole(id: string, field: string): Promise<RoleSummary> {
    try {
      const { role } = await this.roleContext.getRole(id);
      return { id: role!.id, name: role!.name, version: role!.version };
    } catch (e) {
      if (e instanceof GrpcCallError && e.code === GrpcStatus.NOT_FOUND) {
        throw new ChatException('UNKNOWN_ROLE', `role "${id}" does not exist`, field);
      }
      throw e;
    }
  }

  /** The session, if this person may take part: its owner, someone invited, or anyone in anonymous mode. */
  async getForParticipant(sessionId: string, principal: Principal): Promise<ChatSession> {
    const session = await this.get(sessionId);
    if (principal.anonymous || session.owner === principal.userId || (await this.repository.isMember(sessionId, principal.userId))) {
      return session;
    }
    throw new ChatException('FORBIDDEN', 'you neither own this session nor were invited to it', 'sessionId');
  }

  async invite(sessionId: string, inviter: Principal, userId: string): Promise<void> {
    const session = await this.get(sessionId);
    if (!inviter.anonymous && session.owner !== inviter.userId) {
      throw new ChatException('FORBIDDEN', 'only the owner of a session may invite', 'sessionId');
    }
    await this.repository.addMember(sessionId, userId);
  }

  async get(sessionId: string): Promise<ChatSession> {
    const session = await this.repository.get(sessionId);
    if (!session) throw new ChatException('UNKNOWN_SESSION', `session "${sessionId}" does not exist`, 'sessionId');
    return session;
  }
}
