import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { SpanKind, extractTraceContext, inSpanObservable } from '@troupe/tracing';
import type { Request } from 'express';
import { Observable } from 'rxjs';

/**
 * A server span per admin API request, continuing the caller's trace from its `traceparent`
 * header: a run queued over REST (and everything the run does) joins the operator's trace.
 */
@Injectable()
export class AdminTracingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'http') return next.handle();
    const request = context.switchToHttp().getRequest<Request>();
    const route = `${request.baseUrl ?? ''}${(request.route as { path?: string } | undefined)?.path ?? ''}` || request.path;
    return inSpanObservable(
      `${request.method} ${route}`,
      {
        kind: SpanKind.SERVER,
        parent: extractTraceContext(request.headers),
        attributes: { 'http.request.method': request.method, 'http.route': route, 'url.path': request.path },
      },
      () => next.handle(),
    );
  }
}
