import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { APP_LOGGER, Logger, withLogContext } from '@troupe/logging';
import { Observable, tap } from 'rxjs';

/**
 * Restores the caller's log context (x-troupe-* metadata: turn id, session id) around a gRPC
 * handler, and writes one access-log line per call with its outcome and duration: at debug for
 * calls that succeed (at info they would be a line for every turn of every session), at info
 * for failures.
 */
@Injectable()
export class GrpcLogContextInterceptor implements NestInterceptor {
  constructor(@Inject(APP_LOGGER) private readonly logger: Logger) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const metadata = context.switchToRpc().getContext<Metadata>();
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(metadata?.getMap?.() ?? {})) {
      if (key.startsWith('x-troupe-') && typeof value === 'string') {
        fields[key.slice('x-troupe-'.length).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
      }
    }
    const method = context.getHandler().name;
    const started = Date.now();
    return new Observable((subscriber) =>
      withLogContext(fields, () =>
        next
          .handle()
          .pipe(
            tap({
              complete: () => {
                if (this.logger.isLevelEnabled('debug')) this.logger.debug({ grpcMethod: method, ms: Date.now() - started, outcome: 'ok' }, 'grpc call');
              },
              error: (e: unknown) =>
                this.logger.info({ grpcMethod: method, ms: Date.now() - started, outcome: 'error', error: describe(e) }, 'grpc call'),
            }),
          )
          .subscribe(subscriber),
      ),
    );
  }
}

function describe(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}
