import { DynamicModule, Inject, Injectable, Module, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import Redis from 'ioredis';
import { HealthService } from '@troupe/health';
import { defineHashWrites } from './hash-writes';
import { RedisSubscriber } from './redis-subscriber';

/** Injection token of the service's main ioredis connection (keys carry the configured prefix). */
export const REDIS = Symbol('REDIS');

export interface RedisModuleOptions {
  url: string;
  keyPrefix: string;
  connectionName: string;
}

export function createRedis(options: RedisModuleOptions): Redis {
  const redis = new Redis(options.url, {
    keyPrefix: options.keyPrefix,
    connectionName: options.connectionName,
    maxRetriesPerRequest: 3,
    // Commands issued in the same tick go out as one pipeline: token events come in bursts.
    enableAutoPipelining: true,
    // Fail fast when Redis is down at boot rather than queueing commands forever.
    enableOfflineQueue: true,
    lazyConnect: false,
  });
  defineHashWrites(redis);
  return redis;
}

@Injectable()
class RedisLifecycle implements OnModuleInit, OnApplicationShutdown {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly subscriber: RedisSubscriber,
    private readonly health: HealthService,
  ) {}

  onModuleInit(): void {
    this.health.register('redis', () => this.redis.ping());
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all([this.subscriber.close(), this.redis.quit().catch(() => this.redis.disconnect())]);
  }
}

@Module({})
export class RedisModule {
  static forRoot(options: RedisModuleOptions): DynamicModule {
    return {
      module: RedisModule,
      global: true,
      providers: [
        { provide: REDIS, useFactory: () => createRedis(options) },
        {
          // One subscriber connection per process, shared by every pub/sub user; it connects
          // on the first subscription, so services that never subscribe open nothing.
          provide: RedisSubscriber,
          inject: [REDIS],
          useFactory: (redis: Redis) => new RedisSubscriber(redis.duplicate({ keyPrefix: '', lazyConnect: true })),
        },
        RedisLifecycle,
      ],
      exports: [REDIS, RedisSubscriber],
    };
  }
}
