import { DynamicModule, Type } from '@nestjs/common';
import { BaseServiceConfig, ConfigModule } from '@troupe/config';
import { GrpcCallObserversModule } from '@troupe/grpc';
import { HealthModule } from '@troupe/health';
import { Logger, LoggingModule } from '@troupe/logging';
import { MetricsModule } from '@troupe/metrics';
import { RedisModule } from '@troupe/redis';

/** The modules every Troupe service starts with: config, logging, metrics, health, Redis, gRPC call observers. */
export function coreModules(service: string, config: BaseServiceConfig, logger: Logger): (DynamicModule | Type)[] {
  return [
    ConfigModule.forRoot(config),
    LoggingModule.forRoot(logger),
    GrpcCallObserversModule,
    MetricsModule.forRoot(service),
    HealthModule,
    RedisModule.forRoot({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, connectionName: service }),
  ];
}

