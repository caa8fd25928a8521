import { Injectable } from '@nestjs/common';
import { GrpcCallError, GrpcStatus } from '@troupe/grpc';
import { RoleSummary, SessionPolicy } from '@troupe/domain';
import { randomUUID } from 'node:crypto';
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
  async open(roleIds: string[], policy: SessionPolicy, createdBy: string): Promise<ChatSession> {
    if (roleIds.length > this.config.MAX_ROLES_PER_SESSION) {
      throw new ChatException('INVALID_PAYLOAD', `at most ${this.config.MAX_ROLES_PER_SESSION} roles per session`, 'roles');
    }
    const roles: RoleSummary[] = [];
    for (const [i, id] of roleIds.entries()) roles.push(await this.requireRole(id, `roles[${i}]`));
    if (policy.moderator && !roles.some((r) => r.id === policy.moderator)) {
      await this.requireRole(policy.moderator, 'policy.moderator');
    }
    const session: ChatSession = { id: randomUUID(), roles, policy, createdAt: Date.now(), createdBy };
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

  async get(sessionId: string): Promise<ChatSession> {
    const session = await this.repository.get(sessionId);
    if (!session) throw new ChatException('UNKNOWN_SESSION', `session "${sessionId}" does not exist`, 'sessionId');
    return session;
  }
}
