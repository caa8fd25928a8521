import { Inject, Injectable } from '@nestjs/common';
import { RoleSummary, SessionPolicy } from '@troupe/domain';
import { REDIS, Redis } from '@troupe/redis';
import { SessionConfig } from '../session.config';

export interface ChatSession {
  id: string;
  roles: RoleSummary[];
  policy: SessionPolicy;
  createdAt: number;
  createdBy: string;
}

/** Sessions as Redis hashes with a sliding TTL, so any session instance can serve any session. */
@Injectable()
export class SessionsRepository {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: SessionConfig,
  ) {}

  async create(session: ChatSession): Promise<void> {
    const key = this.key(session.id);
    await this.redis
      .multi()
      .hset(key, { roles: JSON.stringify(session.roles), policy: JSON.stringify(session.policy), createdAt: String(session.createdAt), createdBy: session.createdBy })
      .expire(key, this.config.SESSION_TTL_SECONDS)
      .exec();
  }

  async get(id: string): Promise<ChatSession | undefined> {
    const data = await this.redis.hgetall(this.key(id));
    if (!data.roles) return undefined;
    return { id, roles: JSON.parse(data.roles) as RoleSummary[], policy: JSON.parse(data.policy) as SessionPolicy, createdAt: Number(data.createdAt), createdBy: data.createdBy };
  }

  async touch(id: string): Promise<void> {
    await this.redis.expire(this.key(id), this.config.SESSION_TTL_SECONDS);
  }

  private key(id: string): string {
    return `chat-session:${id}`;
  }
}
