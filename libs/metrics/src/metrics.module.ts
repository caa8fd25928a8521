import { DynamicModule, Module } from '@nestjs/common';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { GrpcCallObservers } from '@troupe/grpc';
import { MetricsController } from './metrics.controller';
import { MetricsService } from './metrics.service';
import { RequestMetricsInterceptor, rpcMetricsObserver } from './request-metrics.interceptor';

const RPC_METRICS = Symbol('RPC_METRICS');

@Module({})
export class MetricsModule {
  static forRoot(service: string): DynamicModule {
    return {
      module: MetricsModule,
      global: true,
      controllers: [MetricsController],
      providers: [
        { provide: MetricsService, useValue: new MetricsService(service) },
        { provide: APP_INTERCEPTOR, useClass: RequestMetricsInterceptor },
        // gRPC calls are counted and timed by the server itself (no interceptors run there).
        {
          provide: RPC_METRICS,
          inject: [MetricsService, { token: GrpcCallObservers, optional: true }],
          useFactory: (metrics: MetricsService, calls?: GrpcCallObservers) => calls?.add(rpcMetricsObserver(metrics)),
        },
      ],
      exports: [MetricsService],
    };
  }
}
