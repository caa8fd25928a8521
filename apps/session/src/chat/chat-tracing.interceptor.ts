import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Ack } from '@troupe/domain';
import { SpanKind, SpanStatusCode, inSpanObservable } from '@troupe/tracing';
import { Observable, tap } from 'rxjs';

/**
 * A server span per chat event: the root of a turn's trace for `message.send` (the director,
 * the gRPC calls, queued jobs and the model's batch all continue it). An error ack marks the
 * span failed with its code.
 */
@Injectable()
export class ChatTracingInterceptor implements NestInterceptor {
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'ws') return next.handle();
    const ws = context.switchToWs();
    const event = ws.getPattern();
    const data = ws.getData<unknown>();
    const sessionId = data && typeof data === 'object' ? (data as { sessionId?: unknown }).sessionId : undefined;
    return inSpanObservable(
      `chat ${event}`,
      {
        kind: SpanKind.SERVER,
        attributes: {
          'troupe.chat.event': event,
          ...(typeof sessionId === 'string' && sessionId.length <= 64 ? { 'troupe.session.id': sessionId } : {}),
        },
      },
      (span) =>
        next.handle().pipe(
          tap((ack) => {
            const failed = ack as Ack<object> | undefined;
            if (failed && failed.ok === false) span.setStatus({ code: SpanStatusCode.ERROR, message: `${failed.error.code}: ${failed.error.message}` });
          }),
        ),
    );
  }
}
