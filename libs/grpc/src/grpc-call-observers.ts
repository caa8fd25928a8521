import { Global, Module } from '@nestjs/common';

export type GrpcCallOutcome = 'ok' | 'error' | 'cancelled';

/** Told about every call a gRPC server handles: when it starts, and how it ended. */
export interface GrpcCallObserver {
  /**
   * A call to `method` ("RoleContextService/AssembleContext") started; the function returned
   * is called once when it ends.
   */
  callStarted(method: string): (outcome: GrpcCallOutcome) => void;
}

/**
 * The observers of this process's gRPC server (request metrics, the in-flight count a
 * registry announcement reports). Modules add theirs when they are built; the server calls
 * them around every call, at the transport, with none of Nest's per-interceptor machinery,
 * which cost a call more than a cached AssembleContext's own work.
 */
export class GrpcCallObservers {
  private readonly observers: GrpcCallObserver[] = [];

  add(observer: GrpcCallObserver): void {
    this.observers.push(observer);
  }

  /** Starts a call with every observer; the returned function ends it (once; later calls do nothing). */
  start(method: string): (outcome: GrpcCallOutcome) => void {
    const ends = this.observers.map((o) => o.callStarted(method));
    let ended = false;
    return (outcome) => {
      if (ended) return;
      ended = true;
      for (const end of ends) end(outcome);
    };
  }
}

/** Provides the process's one GrpcCallObservers to every module. */
@Global()
@Module({
  providers: [{ provide: GrpcCallObservers, useFactory: () => new GrpcCallObservers() }],
  exports: [GrpcCallObservers],
})
export class GrpcCallObserversModule {}
