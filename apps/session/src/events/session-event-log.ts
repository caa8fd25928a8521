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
 * Appends a batch atomically: the next sequence numbers, each event into the session's stream
 * (its id is the sequence number, so ranges are cheap), and one notice carrying the batch (the
 * appending instance's tag, then a JSON array of events) to every instance on the session's
 * channel.
 * KEYS: seq counter, stream. ARGV: max events kept, ttl ms, channel, origin tag, then type and
 * payload JSON of each event. Returns the last sequence number and how many connections heard
 * the notice (0: no instance has a client of the session).
 */
const APPEND_BATCH = `
local count = (#ARGV - 4) / 2
local last = redis.call('INCRBY', KEYS[1], count)
local first = last - count + 1
local notices = {}
for i = 0, count - 1 do
  local seq = first + i
  local t = ARGV[5 + 2 * i]
  local p = ARGV[6 + 2 * i]
  redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[1], seq .. '-1', 't', t, 'p', p)
  notices[i + 1] = '{"seq":' .. seq .. ',"type":"' .. t .. '","payload":' .. p .. '}'
end
if math.floor((last - 1) / 64) ~= math.floor((first - 2) / 64) then
  -- Sliding expiry, refreshed whenever a batch passes a multiple of 64 rather than on every event.
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  redis.call('PEXPIRE', KEYS[2], ARGV[2])
end
local receivers = redis.call('PUBLISH', ARGV[3], ARGV[4] .. '[' .. table.concat(notices, ',') .. ']')
return {last, receivers}
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
    this.redis.defineCommand('troupeAppendEvents', { numberOfKeys: 2, lua: APPEND_BATCH });
  }

  channel(sessionId: string): string {
    return prefixedChannel(this.redis, `session-events:${sessionId}`);
  }

  /**
   * Appends events in order as consecutive sequence numbers; resolves with the last one and
   * how many subscriptions heard the notice. Commands on one connection run in order, so
   * callers need not await for ordering. `origin` (no '[' in it) heads the notice, so the
   * appending instance can tell its own.
   */
  async appendBatch(sessionId: string, events: readonly { type: string; payload: object }[], origin = ''): Promise<{ last: number; receivers: number }> {
    const args: string[] = [String(this.config.EVENT_LOG_MAX_EVENTS), String(this.config.SESSION_TTL_SECONDS * 1000), this.channel(sessionId), origin];
    for (const event of events) args.push(event.type, JSON.stringify(event.payload));
    const [last, receivers] = await (this.redis as unknown as Record<string, (...a: unknown[]) => Promise<[number, number]>>).troupeAppendEvents(
      this.seqKey(sessionId),
      this.streamKey(sessionId),
      ...args,
    );
    return { last: Number(last), receivers: Number(receivers) };
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

  /** A notice's origin tag and its events, in order. */
  static parseNotice(message: string): { origin: string; events: LoggedEvent[] } {
    const start = message.indexOf('[');
    return { origin: message.slice(0, start), events: JSON.parse(message.slice(start)) as LoggedEvent[] };
  }

  private seqKey(sessionId: string): string {
    return `session:${sessionId}:seq`;
  }

  private streamKey(sessionId: string): string {
    return `session:${sessionId}:events`;
  }
}
