import { Inject, Injectable } from '@nestjs/common';
import { RoleSummary, SessionPolicy } from '@troupe/domain';
import { REDIS, Redis, hsetWithExpiry } from '@troupe/redis';
import { SessionConfig } from '../session.config';

export interface ChatSession {
  id: string;
  roles: RoleSummary[];
  policy: SessionPolicy;
  createdAt: number;
  /** The owner's user id; the owner may invite others. */
  owner: string;
  /** Display name of whoever opened it. */
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
    const fields = {
      roles: JSON.stringify(session.roles),
      policy: JSON.stringify(session.policy),
      createdAt: String(session.createdAt),
      owner: session.owner,
      createdBy: session.createdBy,
    };
    await hsetWithExpiry(this.redis, this.key(session.id), fields, this.config.SESSION_TTL_SECONDS);
  }

  async get(id: string): Promise<ChatSession | undefined> {
    const data = await this.redis.hgetall(this.key(id));
    if (!data.roles) return undefined;
    return { id, roles: JSON.parse(data.roles) as RoleSummary[], policy: JSON.parse(data.policy) as SessionPolicy, createdAt: Number(data.createdAt), owner: data.owner, createdBy: data.createdBy };
  }

  async addMember(id: string, userId: string): Promise<void> {
    await this.redis.multi().sadd(this.membersKey(id), userId).expire(this.membersKey(id), this.config.SESSION_TTL_SECONDS).exec();
  }

  async isMember(id: string, userId: string): Promise<boolean> {
    return (await this.redis.sismember(this.membersKey(id), userId)) === 1;
  }

  private membersKey(id: string): string {
    return `chat-session:${id}:members`;
  }

  private key(id: string): string {
    return `chat-session:${id}`;
  }
}
