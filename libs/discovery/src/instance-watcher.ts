import type Redis from 'ioredis';
import { RedisSubscriber, prefixedChannel } from '@troupe/redis';
import { DiscoveredInstance, parseInstanceRecord, registryKeys } from './instance-record';

/**
 * A client's view of one service's instances in the registry: read on start, again every
 * heartbeat interval, and at once when an instance announces it joined or left. A record whose
 * key expired is gone; one about to expire carries its expiry by this client's clock, so an
 * instance that stops heartbeating drops out even between two reads. Index members whose
 * record is gone are pruned here (the instance that died cannot do it).
 */
export class InstanceWatcher {
  private current: DiscoveredInstance[] = [];
  private timer?: NodeJS.Timeout;
  private closed = false;
  private running?: Promise<void>;
  private again = false;
  private readonly changed = new Set<(instances: readonly DiscoveredInstance[]) => void>();
  private readonly onNotice = () => void this.refresh();

  constructor(
    private readonly redis: Redis,
    private readonly subscriber: RedisSubscriber,
    readonly service: string,
    private readonly pollMs: number,
  ) {}

  /** First read, then polling; join/leave notices only speed it up, so a failed subscription is not fatal. */
  async start(): Promise<void> {
    await this.refresh();
    this.schedule();
    await this.subscriber.subscribe(this.channel(), this.onNotice).catch(() => undefined);
  }

  /** Instances whose record has not lapsed by now, ordered by id. */
  instances(now = Date.now()): DiscoveredInstance[] {
    return this.current.filter((i) => i.expiresAt > now);
  }

  onChange(listener: (instances: readonly DiscoveredInstance[]) => void): void {
    this.changed.add(listener);
  }

  /** Reads the registry now; concurrent asks share one read and queue at most one more. */
  refresh(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = this.read()
      .catch(() => undefined) // Redis unreachable: keep the last view; records lapse on their own.
      .finally(() => {
        this.running = undefined;
        if (this.again && !this.closed) {
          this.again = false;
          void this.refresh();
        }
      });
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.subscriber.unsubscribe(this.channel(), this.onNotice).catch(() => undefined);
  }

  private async read(): Promise<void> {
    const index = registryKeys.index(this.service);
    const ids = await this.redis.zrange(index, '0', '-1');
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.get(registryKeys.record(this.service, id)).pttl(registryKeys.record(this.service, id));
    const replies = ids.length > 0 ? ((await pipeline.exec()) ?? []) : [];
    const now = Date.now();
    const found: DiscoveredInstance[] = [];
    const gone: string[] = [];
    ids.forEach((id, i) => {
      const json = replies[2 * i]?.[1] as string | null;
      const pttl = replies[2 * i + 1]?.[1] as number;
      const record = json ? parseInstanceRecord(json) : undefined;
      if (!record || pttl <= 0) gone.push(id);
      else found.push({ ...record, expiresAt: now + pttl });
    });
    if (gone.length > 0) await this.redis.zrem(index, ...gone);
    if (this.closed) return;
    // The index is ordered by expiry, which every heartbeat moves: a stable order (by id) keeps
    // round-robin turns alternating instead of following whichever instance beat last.
    found.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const before = this.current.map((i) => i.id).join(',');
    this.current = found;
    if (found.map((i) => i.id).join(',') !== before) for (const listener of this.changed) listener(found);
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => void this.refresh().finally(() => this.schedule()), this.pollMs);
    this.timer.unref();
  }

  private channel(): string {
    return prefixedChannel(this.redis, registryKeys.changes(this.service));
  }
}
