import { Inject, Injectable } from '@nestjs/common';
import { REDIS, Redis, prefixedChannel } from '@troupe/redis';
import { SessionConfig } from '../session.config';

/** One event of a session as stored and delivered: its sequence number, type and payload. */
export interface LoggedEvent {
  seq: number;
  type: string;
  payload: Record<string, unknown>;
}

/**
 * Appends atomically: next sequence number, the event into the session's stream (its id is the
 * sequence number, so ranges are cheap), and a notice to every instance on the session's channel.
 * KEYS: seq counter, stream. ARGV: max events kept, ttl ms, type, payload JSON, channel.
 */
const APPEND = `
local seq = redis.call('INCR', KEYS[1])
redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], seq .. '-1', 't', ARGV[3], 'p', ARGV[4])
if seq % 64 == 1 then
  -- Sliding expiry, refreshed now and then rather than on every event.
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
redis.call('PUBLISH', ARGV[5], '{"seq":' .. seq .. ',"type":"' .. ARGV[3] .. '","payload":' .. ARGV[4] .. '}')
return seq
`;

/**
 * The session's event log (a Redis Stream): everything the room sees, in order, with a
 * per-session sequence number. Live delivery and replay after a reconnect both read it.
 */
@Injectable()
export class SessionEventLog {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: SessionConfig,
  ) {
    this.redis.defineCommand('troupeAppendEvent', { numberOfKeys: 2, lua: APPEND });
  }

  channel(sessionId: string): string {
    return prefixedChannel(this.redis, `session-events:${sessionId}`);
  }

  /** Appends one event; commands on one connection run in order, so callers need not await for ordering. */
  async append(sessionId: string, type: string, payload: object): Promise<number> {
    const seq = await (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<number>>).troupeAppendEvent(
      this.seqKey(sessionId),
      this.streamKey(sessionId),
      String(this.config.EVENT_LOG_MAX_EVENTS),
      String(this.config.SESSION_TTL_SECONDS * 1000),
      type,
      JSON.stringify(payload),
      this.channel(sessionId),
    );
    return Number(seq);
  }

  /** The sequence number of the newest event (0 when none). */
  async lastSeq(sessionId: string): Promise<number> {
    return Number((await this.redis.get(this.seqKey(sessionId))) ?? 0);
  }

  /** Events with after < seq <= upTo (or to the end), oldest first. */
  async range(sessionId: string, after: number, upTo?: number, count = 1000): Promise<LoggedEvent[]> {
    const entries = await this.redis.xrange(this.streamKey(sessionId), `(${after}-1`, upTo ? `${upTo}-1` : '+', 'COUNT', count);
    return entries.map(([id, fields]) => {
      const map: Record<string, string> = {};
      for (let i = 0; i < fields.length; i += 2) map[fields[i]] = fields[i + 1];
      return { seq: Number(id.split('-')[0]), type: map.t, payload: JSON.parse(map.p) as Record<string, unknown> };
    });
  }

  private seqKey(sessionId: string): string {
    return `session:${sessionId}:seq`;
  }

  private streamKey(sessionId: string): string {
    return `session:${sessionId}:events`;
  }
}
