import { Inject, Injectable } from '@nestjs/common';
import { roleContext } from '@troupe/contracts';
import { REDIS, Redis } from '@troupe/redis';
import { RoleContextConfig } from '../role-context.config';

export type HistoryEntry = roleContext.HistoryEntry;

const FIELDS = ['speakerKind', 'speaker', 'text', 'tokenCount', 'turnId', 'createdAt'] as const;

/** A session's history as one Redis Stream, trimmed to a bound so it never grows without limit. */
@Injectable()
export class HistoryRepository {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: RoleContextConfig,
  ) {}

  async append(sessionId: string, entry: Omit<HistoryEntry, 'id' | 'createdAt'>): Promise<string> {
    const fields: Record<string, string> = {
      speakerKind: entry.speakerKind,
      speaker: entry.speaker,
      text: entry.text,
      tokenCount: String(entry.tokenCount),
      turnId: entry.turnId,
      createdAt: String(Date.now()),
    };
    const id = await this.redis.xadd(
      this.key(sessionId),
      'MAXLEN',
      '~',
      String(this.config.HISTORY_MAX_ENTRIES),
      '*',
      ...Object.entries(fields).flat(),
    );
    return id as string;
  }

  /** The most recent `limit` entries, oldest first. */
  async recent(sessionId: string, limit: number): Promise<HistoryEntry[]> {
    const raw = await this.redis.xrevrange(this.key(sessionId), '+', '-', 'COUNT', limit);
    return raw.reverse().map(([id, values]) => {
      const map: Record<string, string> = {};
      for (let i = 0; i < values.length; i += 2) map[values[i]] = values[i + 1];
      const entry: HistoryEntry = { id, speakerKind: '', speaker: '', text: '', tokenCount: 0, turnId: '', createdAt: '' };
      for (const f of FIELDS) (entry as unknown as Record<string, unknown>)[f] = f === 'tokenCount' ? Number(map[f] ?? 0) : (map[f] ?? '');
      return entry;
    });
  }

  private key(sessionId: string): string {
    return `session:${sessionId}:history`;
  }
}
