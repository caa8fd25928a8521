import { CallHandler, ExecutionContext, Injectable, NestInterceptor } from '@nestjs/common';
import { Observable, finalize } from 'rxjs';
import { LoadMonitor } from './load-monitor';

/** Counts the gRPC calls this instance is serving, streams until they end, for its load report. */
@Injectable()
export class InFlightInterceptor implements NestInterceptor {
  constructor(private readonly load: LoadMonitor) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getType() !== 'rpc') return next.handle();
    return new Observable((subscriber) => {
      this.load.callStarted();
      return next
        .handle()
        .pipe(finalize(() => this.load.callEnded()))
        .subscribe(subscriber);
    });
  }
}
