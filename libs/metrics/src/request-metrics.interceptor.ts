import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { GrpcCallObserver } from '@troupe/grpc';
import { Observable, tap } from 'rxjs';
import { MetricsService } from './metrics.service';

/** Counts and times every HTTP request and WebSocket message, so handlers carry no metrics code. */
@Injectable()
export class RequestMetricsInterceptor implements NestInterceptor {
  constructor(private readonly metrics: MetricsService) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const transport = context.getType<string>();
    const method =
      transport === 'http'
        ? `${context.switchToHttp().getRequest().method} ${context.switchToHttp().getRequest().route?.path ?? 'unmatched'}`
        : `${context.getClass().name}.${context.getHandler().name}`;
    const started = performance.now();
    const done = (outcome: string) => this.metrics.observeRequest(transport, method, outcome, (performance.now() - started) / 1000);
    let finished = false;
    return next.handle().pipe(
      tap({
        complete: () => {
          finished = true;
          done('ok');
        },
        error: () => {
          finished = true;
          done('error');
        },
        finalize: () => {
          if (!finished) done('cancelled');
        },
      }),
    );
  }
}

/** Counts and times every gRPC call a server handles (transport "rpc", method "Service/Method"). */
export function rpcMetricsObserver(metrics: MetricsService): GrpcCallObserver {
  return {
    callStarted: (method) => {
      const started = performance.now();
      return (outcome) => metrics.observeRequest('rpc', method, outcome, (performance.now() - started) / 1000);
    },
  };
}
