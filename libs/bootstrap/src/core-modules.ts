import { DynamicModule, Provider, Type } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { BaseServiceConfig, ConfigModule } from '@troupe/config';
import { GrpcLogContextInterceptor, GrpcTracingInterceptor } from '@troupe/grpc';
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

/** Interceptors every gRPC server uses, outermost first: the span, then the log context inside it. */
export const grpcServerProviders: Provider[] = [
  { provide: APP_INTERCEPTOR, useClass: GrpcTracingInterceptor },
  { provide: APP_INTERCEPTOR, useClass: GrpcLogContextInterceptor },
];
