import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { withLogContext } from '@troupe/logging';
import { Observable } from 'rxjs';

/** Restores the caller's log context (x-troupe-* metadata) around a gRPC handler. */
@Injectable()
export class GrpcLogContextInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const metadata = context.switchToRpc().getContext<Metadata>();
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(metadata?.getMap?.() ?? {})) {
      if (key.startsWith('x-troupe-') && typeof value === 'string') {
        fields[key.slice('x-troupe-'.length).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
      }
    }
    return new Observable((subscriber) => withLogContext(fields, () => next.handle().subscribe(subscriber)));
  }
}
