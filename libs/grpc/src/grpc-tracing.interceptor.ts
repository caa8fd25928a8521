import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { SpanKind, extractTraceContext, inSpanObservable } from '@troupe/tracing';
import { Observable } from 'rxjs';

/**
 * A server span around each gRPC handler, continuing the caller's trace from the W3C
 * traceparent in the call's metadata. It runs outside the log-context interceptor, so the
 * handler's log lines (and its access-log line) carry the span's trace id. While tracing is
 * off it costs a no-op span.
 */
@Injectable()
export class GrpcTracingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const metadata = context.switchToRpc().getContext<Metadata>();
    const call = context.getArgByIndex<{ getPath?(): string } | undefined>(2);
    // "/troupe.inference.v1.InferenceService/Generate"
    const path = call?.getPath?.()?.replace(/^\//, '') ?? context.getHandler().name;
    const [service, method] = path.includes('/') ? path.split('/') : ['', path];
    return inSpanObservable(
      path,
      {
        kind: SpanKind.SERVER,
        parent: extractTraceContext(metadata?.getMap?.()),
        attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method },
      },
      () => next.handle(),
    );
  }
}

