import { Inject, Injectable } from '@nestjs/common';
import { roleContext } from '@troupe/contracts';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { REDIS, Redis, hsetWithExpiry } from '@troupe/redis';
import { randomUUID } from 'node:crypto';
import type { InvalidationNotice } from '../caches/invalidation-bus';
import { RoleContextConfig } from '../role-context.config';
import { foldIntoSummary } from './extractive-summary';
import { allSessionKeys, refreshExpiry, sessionKeys } from './session-keys';

export type HistoryEntry = roleContext.HistoryEntry;

const FIELDS = ['speakerKind', 'speaker', 'text', 'tokenCount', 'turnId', 'createdAt', 'toolCallsJson'] as const;

/**
 * Appends a turn, refreshes the expiry of the session's keys and publishes a notice, in one
 * script (a MULTI of these 7 commands cost the client about five times as much CPU), and
 * (count > 0) reads back the most recent entries and the summary.
 * KEYS: history stream, summary, then the session's other keys. ARGV: ttl ms (0: none), notice
 * channel ('': none), notice, entries to read back (0: none), then field/value pairs. Returns
 * the entry id, the stream's length, how many received the notice, then the entries and the
 * summary read back.
 */
const APPEND_ENTRY = `
local id = redis.call('XADD', KEYS[1], '*', unpack(ARGV, 5))
local length = redis.call('XLEN', KEYS[1])
if tonumber(ARGV[1]) > 0 then
  for i = 1, #KEYS do redis.call('PEXPIRE', KEYS[i], ARGV[1]) end
end
local receivers = 0
if ARGV[2] ~= '' then receivers = redis.call('PUBLISH', ARGV[2], ARGV[3]) end
if tonumber(ARGV[4]) > 0 then
  return {id, length, receivers, redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', ARGV[4]), redis.call('GET', KEYS[2])}
end
return {id, length, receivers}
`;

/** The most recent entries and the summary. KEYS: history stream, summary. ARGV: count. */
const READ_WINDOW = `
return {redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', ARGV[1]), redis.call('GET', KEYS[2])}
`;

type HistoryScripts = {
  troupeAppendEntry(...args: (string | number)[]): Promise<[string, number, number, [string, string[]][]?, (string | null)?]>;
  troupeReadWindow(history: string, summary: string, count: number): Promise<[[string, string[]][], string | null]>;
};

/** Releases the compaction lock only if we still hold it. KEYS: lock. ARGV: token. */
const UNLOCK = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`;

/**
 * A session's history as one Redis Stream plus its rolling summary. Turns leave the stream
 * into the summary when no role's window shows them any more (each assembled window marks its
 * oldest turn), and in any case once the stream holds HISTORY_COMPACTION_BATCH entries over
 * HISTORY_MAX_ENTRIES — the hard bound. Folding runs under a lock, so two instances never fold twice.
 */
@Injectable()
export class HistoryRepository {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: RoleContextConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.redis.defineCommand('troupeAppendEntry', { lua: APPEND_ENTRY });
    this.redis.defineCommand('troupeReadWindow', { numberOfKeys: 2, lua: READ_WINDOW });
  }

  private get scripts(): HistoryScripts {
    return this.redis as unknown as HistoryScripts;
  }

  /**
   * Appends a turn; `notice` (a pub/sub message) is published in the same script, after the
   * write. Returns the entry id, how many received the notice, and whether older entries were
   * folded into the summary afterwards (then the notice went out before that change).
   * `readBack` > 0: the window as the append left it (that many recent entries and the
   * summary) comes back in the same round trip; after a compaction it is read again.
   */
  async append(
    sessionId: string,
    entry: Omit<HistoryEntry, 'id' | 'createdAt'>,
    notice?: InvalidationNotice,
    readBack = 0,
  ): Promise<{ id: string; receivers: number; compacted: boolean; window?: { entries: HistoryEntry[]; summary: string } }> {
    const fields: Record<string, string> = {
      speakerKind: entry.speakerKind,
      speaker: entry.speaker,
      text: entry.text,
      tokenCount: String(entry.tokenCount),
      turnId: entry.turnId,
      createdAt: String(Date.now()),
      toolCallsJson: entry.toolCallsJson ?? '',
    };
    // Every key of the session's history lives on for the TTL after its latest turn (the stream and summary first).
    const first = [this.key(sessionId), this.summaryKey(sessionId)];
    const keys = [...first, ...allSessionKeys(sessionId).filter((k) => !first.includes(k))];
    const [id, length, receivers, raw, summary] = await this.scripts.troupeAppendEntry(
      keys.length,
      ...keys,
      this.config.HISTORY_TTL_SECONDS * 1000,
      notice?.channel ?? '',
      notice?.message ?? '',
      readBack,
      ...Object.entries(fields).flat(),
    );
    let compacted = false;
    if (length >= this.config.HISTORY_MAX_ENTRIES + this.config.HISTORY_COMPACTION_BATCH) {
      const folded = await this.compact(sessionId).catch((e) => {
        this.logger.warn({ sessionId, err: e }, 'history compaction failed; will retry on a later append');
        return 0;
      });
      compacted = folded > 0;
    }
    if (readBack <= 0) return { id, receivers, compacted };
    const window = compacted ? await this.window(sessionId, readBack) : { entries: toEntries(raw ?? []), summary: summary ?? '' };
    return { id, receivers, compacted, window };
  }

  /** The most recent `limit` entries, oldest first. */
  async recent(sessionId: string, limit: number): Promise<HistoryEntry[]> {
    const raw = await this.redis.xrevrange(this.key(sessionId), '+', '-', 'COUNT', limit);
    return raw.reverse().map(([id, values]) => toEntry(id, values));
  }

  async summary(sessionId: string): Promise<string> {
    return (await this.redis.get(this.summaryKey(sessionId))) ?? '';
  }

  /** Recent entries and the summary in one round trip. */
  async window(sessionId: string, limit: number): Promise<{ entries: HistoryEntry[]; summary: string }> {
    const [raw, summary] = await this.scripts.troupeReadWindow(this.key(sessionId), this.summaryKey(sessionId), limit);
    return { entries: toEntries(raw), summary: summary ?? '' };
  }

  /** Folds everything beyond HISTORY_MAX_ENTRIES into the summary; returns how many entries were folded. */
  async compact(sessionId: string): Promise<number> {
    return this.underLock(sessionId, async () => {
      const excess = (await this.redis.xlen(this.key(sessionId))) - this.config.HISTORY_MAX_ENTRIES;
      if (excess <= 0) return 0;
      return this.fold(sessionId, await this.redis.xrange(this.key(sessionId), '-', '+', 'COUNT', excess));
    });
  }

  /** Remembers the oldest entry a role's latest window showed. */
  async markWindowStart(sessionId: string, roleId: string, entryId: string): Promise<void> {
    await hsetWithExpiry(this.redis, this.windowStartsKey(sessionId), { [roleId]: entryId }, this.config.HISTORY_TTL_SECONDS);
  }

  /**
   * Folds the entries older than every marked window start (the turns no role that assembled
   * in this session still sees) into the summary; returns how many were folded.
   */
  async foldOutOfWindows(sessionId: string): Promise<number> {
    return this.underLock(sessionId, async () => {
      const starts = Object.values(await this.redis.hgetall(this.windowStartsKey(sessionId)));
      if (starts.length === 0) return 0;
      const earliest = starts.reduce((a, b) => (compareStreamIds(a, b) <= 0 ? a : b));
      return this.fold(sessionId, await this.redis.xrange(this.key(sessionId), '-', `(${earliest}`));
    });
  }

  private async fold(sessionId: string, raw: [string, string[]][]): Promise<number> {
    if (raw.length === 0) return 0;
    const oldest = raw.map(([id, values]) => toEntry(id, values));
    const summary = foldIntoSummary(await this.summary(sessionId), oldest, this.config.SUMMARY_MAX_CHARS);
    // The summary lives as long as the rest of the session's history.
    const write = this.redis.multi().set(this.summaryKey(sessionId), summary).xdel(this.key(sessionId), ...oldest.map((e) => e.id));
    await refreshExpiry(write, this.config.HISTORY_TTL_SECONDS, [this.summaryKey(sessionId)]).exec();
    return oldest.length;
  }

  /** One compaction per session at a time, across instances; a busy lock means someone else is on it. */
  private async underLock(sessionId: string, work: () => Promise<number>): Promise<number> {
    const lock = `${this.key(sessionId)}:compacting`;
    const token = randomUUID();
    if ((await this.redis.set(lock, token, 'PX', 30_000, 'NX')) !== 'OK') return 0;
    try {
      return await work();
    } finally {
      await this.redis.eval(UNLOCK, 1, lock, token);
    }
  }

  private key(sessionId: string): string {
    return sessionKeys.history(sessionId);
  }

  private windowStartsKey(sessionId: string): string {
    return sessionKeys.windowStarts(sessionId);
  }

  private summaryKey(sessionId: string): string {
    return sessionKeys.summary(sessionId);
  }
}

/** Entries as XREVRANGE gives them (newest first), oldest first. */
function toEntries(raw: [string, string[]][]): HistoryEntry[] {
  return raw.reverse().map(([id, values]) => toEntry(id, values));
}

function toEntry(id: string, values: string[]): HistoryEntry {
  const map: Record<string, string> = {};
  for (let i = 0; i < values.length; i += 2) map[values[i]] = values[i + 1];
  const entry: HistoryEntry = { id, speakerKind: '', speaker: '', text: '', tokenCount: 0, turnId: '', createdAt: '', toolCallsJson: '' };
  for (const f of FIELDS) (entry as unknown as Record<string, unknown>)[f] = f === 'tokenCount' ? Number(map[f] ?? 0) : (map[f] ?? '');
  return entry;
}

/** Orders Redis Stream ids ("<ms>-<seq>"). */
export function compareStreamIds(a: string, b: string): number {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  return am - bm || as - bs;
}
