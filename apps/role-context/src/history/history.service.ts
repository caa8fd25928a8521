import { Injectable } from '@nestjs/common';
import { InvalidationBus } from '../caches/invalidation-bus';
import { HistoryEntry, HistoryRepository } from './history.repository';

export const sessionTag = (sessionId: string) => `session:${sessionId}`;

/** Appending a turn invalidates the session's cached windows on every instance before it is acknowledged. */
@Injectable()
export class HistoryService {
  constructor(
    private readonly repository: HistoryRepository,
    private readonly bus: InvalidationBus,
  ) {}

  async append(sessionId: string, entry: Omit<HistoryEntry, 'id' | 'createdAt'>): Promise<string> {
    const id = await this.repository.append(sessionId, entry);
    await this.bus.publish([sessionTag(sessionId)]);
    return id;
  }

  async read(sessionId: string, limit: number): Promise<{ entries: HistoryEntry[]; summary: string }> {
    return this.repository.window(sessionId, limit);
  }
}
