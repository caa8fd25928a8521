import { Inject, Injectable } from '@nestjs/common';
import { APP_LOGGER, Logger } from '@troupe/logging';
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
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  async append(sessionId: string, entry: Omit<HistoryEntry, 'id' | 'createdAt'>): Promise<string> {
    return (await this.appendAndRead(sessionId, entry, 0)).id;
  }

  /**
   * Appends, and (readBack > 0) reads the window as the append left it in the same round trip:
   * that many recent entries, oldest first, and the summary.
   */
  async appendAndRead(
    sessionId: string,
    entry: Omit<HistoryEntry, 'id' | 'createdAt'>,
    readBack: number,
  ): Promise<{ id: string; window?: { entries: HistoryEntry[]; summary: string } }> {
    // The invalidation rides in the append's own script: one round trip for both.
    const appended = await this.bus.publishWith([sessionTag(sessionId)], async (notice) => {
      const result = await this.repository.append(sessionId, entry, notice, readBack);
      return { receivers: result.receivers, value: result };
    });
    // A compaction changed the history after the notice: windows read in between must go too.
    if (appended.compacted) await this.bus.publish([sessionTag(sessionId)]);
    return { id: appended.id, window: appended.window };
  }

  /**
   * Records where a role's window starts; when enough turns are hidden from it, folds what no
   * window shows into the summary and lets every instance drop the session's cached windows.
   */
  async noteWindow(sessionId: string, roleId: string, oldestShownId: string, hiddenTurns: number): Promise<void> {
    const marked = this.repository.markWindowStart(sessionId, roleId, oldestShownId);
    // Nothing to fold yet: the mark is bookkeeping for later folds, and the caller need not wait
    // for it (commands on one connection run in order, so this instance's next fold sees it).
    if (hiddenTurns < this.config.HISTORY_COMPACTION_BATCH) return this.settleInBackground(marked, sessionId);
    await marked;
    if ((await this.repository.foldOutOfWindows(sessionId)) > 0) await this.bus.publish([sessionTag(sessionId)]);
  }

  async read(sessionId: string, limit: number): Promise<{ entries: HistoryEntry[]; summary: string }> {
    return this.repository.window(sessionId, limit);
  }

  private settleInBackground(write: Promise<void>, sessionId: string): void {
    write.catch((err: unknown) => this.logger.warn({ err, sessionId }, 'window start not noted; a later turn notes it again'));
  }
}
