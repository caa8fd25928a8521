import type Redis from 'ioredis';

/** Tools find_tools made callable, per session and turn. */
export abstract class FoundToolsStore {
  abstract add(sessionId: string, turnId: string, names: string[]): Promise<void>;
  abstract list(sessionId: string, turnId: string): Promise<string[]>;
}

/** In Redis so every instance of the service sees what find_tools found earlier in the turn. */
export class RedisFoundToolsStore extends FoundToolsStore {
  /** A turn does not last longer than this; the set then expires by itself. */
  static readonly TTL_MS = 6 * 60 * 60 * 1000;

  constructor(private readonly redis: Redis) {
    super();
  }

  async add(sessionId: string, turnId: string, names: string[]): Promise<void> {
    if (names.length === 0) return;
    const key = this.key(sessionId, turnId);
    await this.redis.multi().sadd(key, ...names).pexpire(key, RedisFoundToolsStore.TTL_MS).exec();
  }

  list(sessionId: string, turnId: string): Promise<string[]> {
    return this.redis.smembers(this.key(sessionId, turnId));
  }

  private key(sessionId: string, turnId: string): string {
    return `tool-plugin:found:${sessionId}:${turnId}`;
  }
}

/** For unit tests and single-process use. */
export class MemoryFoundToolsStore extends FoundToolsStore {
  private readonly sets = new Map<string, Set<string>>();

  async add(sessionId: string, turnId: string, names: string[]): Promise<void> {
    const key = `${sessionId}\u0000${turnId}`;
    const set = this.sets.get(key) ?? new Set<string>();
    names.forEach((n) => set.add(n));
    this.sets.set(key, set);
  }

  async list(sessionId: string, turnId: string): Promise<string[]> {
    return [...(this.sets.get(`${sessionId}\u0000${turnId}`) ?? [])];
  }
}
