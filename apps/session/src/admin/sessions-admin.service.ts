import { Inject, Injectable } from '@nestjs/common';
import { REDIS, Redis } from '@troupe/redis';
import { DirectorService } from '../director/director.service';
import { SessionEventLog } from '../events/session-event-log';
import { RoleContextClient } from '../peers/role-context.client';
import { ChatSession, SessionsRepository } from '../sessions/sessions.repository';
import { AdminHttpError } from './admin-errors';

export interface SessionFilter {
  owner?: string;
  role?: string;
  offset: number;
  limit: number;
}

/** Sessions for operators: listing (a scan of the session keys), inspection, ending. */
@Injectable()
export class SessionsAdminService {
  constructor(
    private readonly repository: SessionsRepository,
    private readonly log: SessionEventLog,
    private readonly roleContext: RoleContextClient,
    private readonly director: DirectorService,
    @Inject(REDIS) private readonly redis: Redis,
  ) {}

  async list(filter: SessionFilter): Promise<{ items: ChatSession[]; total: number }> {
    const prefix = this.redis.options.keyPrefix ?? '';
    const ids: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix}chat-session:*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const id = key.slice(prefix.length + 'chat-session:'.length);
        if (!id.includes(':')) ids.push(id);
      }
    } while (cursor !== '0');
    const sessions: ChatSession[] = [];
    for (const id of ids) {
      const s = await this.repository.get(id);
      if (!s || (filter.owner && s.owner !== filter.owner) || (filter.role && !s.roles.some((r) => r.id === filter.role))) continue;
      sessions.push(s);
    }
    sessions.sort((a, b) => b.createdAt - a.createdAt);
    return { items: sessions.slice(filter.offset, filter.offset + filter.limit), total: sessions.length };
  }

  async get(id: string): Promise<ChatSession> {
    const session = await this.repository.get(id);
    if (!session) throw new AdminHttpError(404, 'UNKNOWN_SESSION', `session "${id}" does not exist`, [{ field: 'sessionId', message: 'unknown session' }]);
    return session;
  }

  async events(id: string, after: number, limit: number) {
    await this.get(id);
    return { items: await this.log.range(id, after, undefined, limit), lastSeq: await this.log.lastSeq(id) };
  }

  async history(id: string, limit: number) {
    await this.get(id);
    return this.roleContext.getHistory({ sessionId: id, limit });
  }

  /** Stops the session's turns (on whichever instance runs them) and removes it: nobody can send to it any more. */
  async end(id: string): Promise<{ session: ChatSession; cancelledTurns: number }> {
    const session = await this.get(id);
    const cancelledTurns = await this.director.cancel(id);
    await this.redis.del(`chat-session:${id}`, `chat-session:${id}:members`);
    return { session, cancelledTurns };
  }
}
