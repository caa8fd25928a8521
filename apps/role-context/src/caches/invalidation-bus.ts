import { Inject, Injectable, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { REDIS, Redis } from '@troupe/redis';
import { randomUUID } from 'node:crypto';
import { RoleContextConfig } from '../role-context.config';

interface InvalidationMessage {
  from: string;
  nonce: string;
  tags: string[];
}

const RECENT_INVALIDATIONS = 4096;

/** The PUBLISH an invalidation needs, for a caller that sends it in its own MULTI (publishWith). */
export interface InvalidationNotice {
  channel: string;
  message: string;
}

interface Waiting {
  acks: number;
  expected: number | undefined;
  done: () => void;
}

/**
 * Cache invalidation across every instance of the service over Redis pub/sub. `publish`
 * drops the tags here at once, then waits until each other subscribed instance confirms it
 * dropped them too (PUBLISH says how many received it), so a write acknowledged to its caller
 * is never followed by a stale read on another instance. An instance that does not confirm
 * within INVALIDATION_ACK_TIMEOUT_MS is logged, not waited on forever.
 */
@Injectable()
export class InvalidationBus implements OnModuleInit, OnApplicationShutdown {
  readonly instanceId = randomUUID();
  /** Counts invalidations applied here, so a reader can tell one happened while it was reading. */
  epoch = 0;
  /** The tags of the most recent invalidations (ring buffer indexed by epoch). */
  private readonly recent: string[][] = new Array(RECENT_INVALIDATIONS);
  private readonly handlers: ((tags: string[]) => void)[] = [];
  private readonly pending = new Map<string, Waiting>();
  private subscriber?: Redis;
  private readonly channel: string;
  private readonly ackChannel: string;

  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: RoleContextConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    // Channels are not key-prefixed by ioredis; the prefix keeps deployments (and tests) apart.
    this.channel = `${config.REDIS_KEY_PREFIX}role-context:invalidate`;
    this.ackChannel = `${config.REDIS_KEY_PREFIX}role-context:invalidate-ack`;
  }

  onInvalidate(handler: (tags: string[]) => void): void {
    this.handlers.push(handler);
  }

  async onModuleInit(): Promise<void> {
    this.subscriber = this.redis.duplicate();
    this.subscriber.on('message', (channel: string, raw: string) => this.receive(channel, raw));
    await this.subscriber.subscribe(this.channel, this.ackChannel);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.subscriber?.quit().catch(() => this.subscriber?.disconnect());
  }

  /** Drops the tags on every instance; resolves when all of them confirmed (or the wait timed out). */
  async publish(tags: string[]): Promise<void> {
    await this.publishWith(tags, async (notice) => ({ receivers: await this.redis.publish(notice.channel, notice.message), value: undefined }));
  }

  /**
   * Like publish, with the PUBLISH sent by `write` (in the MULTI of the write it announces: one
   * round trip for both), which returns how many received it with its own result. Drops the
   * tags here at once; resolves with that result once every other instance confirmed (or the
   * wait timed out).
   */
  async publishWith<T>(tags: string[], write: (notice: InvalidationNotice) => Promise<{ receivers: number; value: T }>): Promise<T> {
    this.apply(tags);
    const nonce = randomUUID();
    const message: InvalidationMessage = { from: this.instanceId, nonce, tags };
    // Acks can arrive before PUBLISH returns how many to expect, so they are counted from the start.
    const waiting: Waiting = { acks: 0, expected: undefined, done: () => undefined };
    const confirmed = new Promise<void>((resolve) => (waiting.done = resolve));
    this.pending.set(nonce, waiting);
    let timer: NodeJS.Timeout | undefined;
    try {
      const { receivers, value } = await write({ channel: this.channel, message: JSON.stringify(message) });
      // Our own subscriber is one of the receivers; it ignores its own messages.
      waiting.expected = receivers - 1;
      if (waiting.acks < waiting.expected) {
        const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.config.INVALIDATION_ACK_TIMEOUT_MS)));
        if (await Promise.race([confirmed.then(() => false), timedOut])) {
          this.logger.warn({ tags, expected: waiting.expected, acks: waiting.acks }, 'cache invalidation not confirmed by every instance in time');
        }
      }
      return value;
    } finally {
      clearTimeout(timer);
      this.pending.delete(nonce);
    }
  }

  private receive(channel: string, raw: string): void {
    let message: InvalidationMessage;
    try {
      message = JSON.parse(raw) as InvalidationMessage;
    } catch {
      return;
    }
    if (channel === this.ackChannel) {
      const waiting = this.pending.get(message.nonce);
      if (!waiting) return;
      waiting.acks++;
      if (waiting.expected !== undefined && waiting.acks >= waiting.expected) waiting.done();
      return;
    }
    if (message.from === this.instanceId || !Array.isArray(message.tags)) return;
    this.apply(message.tags);
    void this.redis.publish(this.ackChannel, JSON.stringify({ from: this.instanceId, nonce: message.nonce, tags: [] })).catch(() => undefined);
  }

  /**
   * Whether any invalidation since `epoch` touched one of the tags. Too long ago to tell
   * (more than RECENT_INVALIDATIONS since) counts as yes: the caller then just skips caching.
   */
  invalidatedSince(epoch: number, tags: readonly string[]): boolean {
    if (this.epoch - epoch >= RECENT_INVALIDATIONS) return true;
    for (let e = epoch + 1; e <= this.epoch; e++) {
      const touched = this.recent[e % RECENT_INVALIDATIONS];
      if (touched.some((t) => tags.includes(t))) return true;
    }
    return false;
  }

  private apply(tags: string[]): void {
    this.epoch++;
    this.recent[this.epoch % RECENT_INVALIDATIONS] = tags;
    for (const handler of this.handlers) handler(tags);
  }
}
