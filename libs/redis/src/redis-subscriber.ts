import Redis from 'ioredis';

type Handler = (message: string) => void;

/**
 * One subscriber connection multiplexing many channels. ioredis does not apply keyPrefix to
 * channel names, so callers pass full names (see `prefixedChannel`).
 */
export class RedisSubscriber {
  private readonly handlers = new Map<string, Set<Handler>>();

  constructor(private readonly connection: Redis) {
    connection.on('message', (channel: string, message: string) => {
      for (const handler of this.handlers.get(channel) ?? []) handler(message);
    });
  }

  async subscribe(channel: string, handler: Handler): Promise<void> {
    let set = this.handlers.get(channel);
    if (!set) {
      set = new Set();
      this.handlers.set(channel, set);
      await this.connection.subscribe(channel);
    }
    set.add(handler);
  }

  async unsubscribe(channel: string, handler: Handler): Promise<void> {
    const set = this.handlers.get(channel);
    if (!set) return;
    set.delete(handler);
    if (set.size === 0) {
      this.handlers.delete(channel);
      await this.connection.unsubscribe(channel);
    }
  }

  async close(): Promise<void> {
    // A lazy connection that never subscribed has nothing to quit.
    if (this.connection.status === 'wait') this.connection.disconnect();
    else await this.connection.quit().catch(() => this.connection.disconnect());
  }
}

/** The full channel name for a logical channel, under the deployment's key prefix. */
export function prefixedChannel(redis: Redis, name: string): string {
  return `${redis.options.keyPrefix ?? ''}${name}`;
}
