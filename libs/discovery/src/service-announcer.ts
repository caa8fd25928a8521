import type Redis from 'ioredis';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import type { Logger } from '@troupe/logging';
import { prefixedChannel } from '@troupe/redis';
import { InstanceRecord, registryKeys } from './instance-record';
import type { LoadMonitor } from './load-monitor';

export interface AnnouncerOptions {
  service: string;
  /** host:port other services dial. */
  address: string;
  /** Where this process's own gRPC server listens, probed before the first announcement. */
  listening: { host: string; port: number };
  heartbeatMs: number;
  ttlMs: number;
}

/**
 * Keeps this instance's record in the registry: written on every heartbeat with a TTL, so a
 * crashed instance disappears by itself; deleted at once on graceful shutdown. The first
 * record is written only once the gRPC server accepts connections (Nest's bootstrap hooks run
 * before it listens), so nobody is sent to an instance that is not there yet.
 */
export class ServiceAnnouncer {
  readonly id: string;
  private readonly startedAt = Date.now();
  private timer?: NodeJS.Timeout;
  private announced = false;
  private stopped = false;
  private lastProblem = '';

  constructor(
    private readonly redis: Redis,
    private readonly load: LoadMonitor,
    private readonly options: AnnouncerOptions,
    private readonly logger: Logger,
  ) {
    this.id = `${options.service}-${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  }

  start(): void {
    void this.beat();
  }

  /** The record as it would be written now. */
  record(): InstanceRecord {
    return {
      id: this.id,
      service: this.options.service,
      address: this.options.address,
      models: this.load.models(),
      load: this.load.sample(),
      startedAt: this.startedAt,
      updatedAt: Date.now(),
    };
  }

  /** Stops the heartbeat and removes the record (graceful shutdown). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.announced) return;
    const { service } = this.options;
    await this.redis
      .multi()
      .del(registryKeys.record(service, this.id))
      .zrem(registryKeys.index(service), this.id)
      .exec();
    await this.redis.publish(prefixedChannel(this.redis, registryKeys.changes(service)), `leave ${this.id}`);
    this.logger.info({ instanceId: this.id, service }, 'left the service registry');
  }

  private async beat(): Promise<void> {
    if (this.stopped) return;
    try {
      if (this.announced || (await this.reachable())) await this.write();
      this.lastProblem = '';
    } catch (e) {
      const problem = (e as Error).message;
      if (problem !== this.lastProblem) this.logger.warn({ err: e }, 'heartbeat to the service registry failed');
      this.lastProblem = problem;
    }
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.beat(), this.announced ? this.options.heartbeatMs : Math.min(100, this.options.heartbeatMs));
    this.timer.unref();
  }

  private async write(): Promise<void> {
    const { service, ttlMs } = this.options;
    const record = this.record();
    await this.redis
      .multi()
      .set(registryKeys.record(service, this.id), JSON.stringify(record), 'PX', ttlMs)
      .zadd(registryKeys.index(service), Date.now() + ttlMs, this.id)
      .exec();
    if (this.stopped) {
      // stop() ran while this write was in flight: take the record back out.
      await this.redis.del(registryKeys.record(service, this.id));
      return;
    }
    if (!this.announced) {
      this.announced = true;
      await this.redis.publish(prefixedChannel(this.redis, registryKeys.changes(service)), `join ${this.id}`);
      this.logger.info({ instanceId: this.id, service, address: record.address, models: record.models }, 'joined the service registry');
    }
  }

  /** Whether the gRPC server accepts a TCP connection yet (probed locally: the advertised name may only resolve elsewhere). */
  private reachable(): Promise<boolean> {
    const { host, port } = this.options.listening;
    return new Promise((resolve) => {
      const socket = connect({ host, port });
      const done = (ok: boolean) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(500, () => done(false));
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
    });
  }
}
