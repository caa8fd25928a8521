import { Injectable } from '@nestjs/common';
import { InvalidationBus } from '../caches/invalidation-bus';
import { RoleContextConfig } from '../role-context.config';
import { HistoryEntry, HistoryRepository } from './history.repository';

export const sessionTag = (sessionId: string) => `session:${sessionId}`;

/** Appending a turn invalidates the session's cached windows on every instance before it is acknowledged. */
@Injectable()
export class HistoryService {
  constructor(
    private readonly repository: HistoryRepository,
    private readonly bus: InvalidationBus,
    private readonly config: RoleContextConfig,
  ) {}

  async append(sessionId: string, entry: Omit<HistoryEntry, 'id' | 'createdAt'>): Promise<string> {
    // The invalidation rides in the append's own MULTI: one round trip for both.
    const appended = await this.bus.publishWith([sessionTag(sessionId)], async (notice) => {
      const result = await this.repository.append(sessionId, entry, notice);
      return { receivers: result.receivers, value: result };
    });
    // A compaction changed the history after the notice: windows read in between must go too.
    if (appended.compacted) await this.bus.publish([sessionTag(sessionId)]);
    return appended.id;
  }

  /**
   * Records where a role's window starts; when enough turns are hidden from it, folds what no
   * window shows into the summary and lets every instance drop the session's cached windows.
   */
  async noteWindow(sessionId: string, roleId: string, oldestShownId: string, hiddenTurns: number): Promise<void> {
    await this.repository.markWindowStart(sessionId, roleId, oldestShownId);
    if (hiddenTurns < this.config.HISTORY_COMPACTION_BATCH) return;
    if ((await this.repository.foldOutOfWindows(sessionId)) > 0) await this.bus.publish([sessionTag(sessionId)]);
  }

  async read(sessionId: string, limit: number): Promise<{ entries: HistoryEntry[]; summary: string }> {
    return this.repository.window(sessionId, limit);
  }
}
