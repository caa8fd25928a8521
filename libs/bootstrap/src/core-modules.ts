import { DynamicModule, Provider, Type } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { BaseServiceConfig, ConfigModule } from '@troupe/config';
import { GrpcServerCallInterceptor } from '@troupe/grpc';
import { HealthModule } from '@troupe/health';
import { Logger, LoggingModule } from '@troupe/logging';
import { MetricsModule } from '@troupe/metrics';
import { RedisModule } from '@troupe/redis';

/** The modules every Troupe service starts with: config, logging, metrics, health, Redis. */
export function coreModules(service: string, config: BaseServiceConfig, logger: Logger): (DynamicModule | Type)[] {
  return [
    ConfigModule.forRoot(config),
    LoggingModule.forRoot(logger),
    MetricsModule.forRoot(service),
    HealthModule,
    RedisModule.forRoot({ url: config.REDIS_URL, keyPrefix: config.REDIS_KEY_PREFIX, connectionName: service }),
  ];
}

/** What every gRPC server runs its handlers in: span, log context and access log (one interceptor). */
export const grpcServerProviders: Provider[] = [{ provide: APP_INTERCEPTOR, useClass: GrpcServerCallInterceptor }];
