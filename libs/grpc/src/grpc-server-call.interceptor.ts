import { CallHandler, ExecutionContext, Inject, Injectable, NestInterceptor } from '@nestjs/common';
import type { Metadata } from '@grpc/grpc-js';
import { APP_LOGGER, Logger, withLogContext } from '@troupe/logging';
import { SpanKind, extractTraceContext, inSpanObservable, isTracing } from '@troupe/tracing';
import { Observable, tap } from 'rxjs';

/**
 * What every gRPC handler runs inside, in one interceptor (each Nest interceptor costs a call
 * about as much as a cached AssembleContext's own work):
 * - a server span continuing the caller's trace from the W3C traceparent in the metadata, while
 *   tracing is on (outermost, so the handler's log lines and the access log carry its trace id);
 * - the caller's log context (x-troupe-* metadata: turn id, session id);
 * - one access-log line per call with its outcome and duration: at debug for calls that succeed
 *   (at info they would be a line for every turn of every session), at info for failures.
 */
@Injectable()
export class GrpcServerCallInterceptor implements NestInterceptor {
  constructor(@Inject(APP_LOGGER) private readonly logger: Logger) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    const metadata = context.switchToRpc().getContext<Metadata>()?.getMap?.() ?? {};
    const handled = () => this.withLogContext(metadata, context.getHandler().name, next);
    if (!isTracing()) return handled();
    const call = context.getArgByIndex<{ getPath?(): string } | undefined>(2);
    // "/troupe.inference.v1.InferenceService/Generate"
    const path = call?.getPath?.()?.replace(/^\//, '') ?? context.getHandler().name;
    const [service, method] = path.includes('/') ? path.split('/') : ['', path];
    return inSpanObservable(
      path,
      { kind: SpanKind.SERVER, parent: extractTraceContext(metadata), attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method } },
      handled,
    );
  }

  private withLogContext(metadata: Record<string, unknown>, method: string, next: CallHandler): Observable<unknown> {
    const fields: Record<string, string> = {};
    for (const [key, value] of Object.entries(metadata)) {
      if (key.startsWith('x-troupe-') && typeof value === 'string') {
        fields[key.slice('x-troupe-'.length).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
      }
    }
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
              error: (e: unknown) => this.logger.info({ grpcMethod: method, ms: Date.now() - started, outcome: 'error', error: describe(e) }, 'grpc call'),
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
