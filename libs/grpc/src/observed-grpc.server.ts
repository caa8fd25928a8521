import { Metadata, ServerUnaryCall, ServerWritableStream, sendUnaryData, status } from '@grpc/grpc-js';
import { GrpcMethodStreamingType, GrpcOptions, RpcException, ServerGrpc, Transport } from '@nestjs/microservices';
import { PATTERN_METADATA, TRANSPORT_METADATA } from '@nestjs/microservices/constants';
import { Logger, withLogContext } from '@troupe/logging';
import { Span, SpanKind, extractTraceContext, isTracing, recordFailure, runInContext, startSpan } from '@troupe/tracing';
import { Observable, catchError, isObservable, lastValueFrom, tap, throwError } from 'rxjs';
import { GrpcCallObservers, GrpcCallOutcome } from './grpc-call-observers';

type MethodHandler = (request: unknown, metadata: Metadata, call: unknown) => Promise<unknown>;
interface GrpcPattern {
  service: string;
  rpc: string;
  streaming: GrpcMethodStreamingType;
}
/** Nest's own backpressure-aware writer of an observable to a call (private in its typings). */
interface NestStreamWriter {
  writeObservableToGrpc(source: Observable<unknown>, call: ServerWritableStream<unknown, unknown>): Promise<void>;
}
interface ProtoMethod {
  /** "/troupe.inference.v1.InferenceService/Generate" */
  path: string;
  requestStream: boolean;
  responseStream: boolean;
}

/**
 * Nest's gRPC server with what every call runs inside done here, at the transport, instead of
 * in Nest interceptors (each interceptor cost a call more than a cached AssembleContext's own
 * work; the gRPC side now runs none):
 * - the call's observers (request metrics, in-flight count), told its start and outcome;
 * - the caller's log context (x-troupe-* metadata: turn id, session id);
 * - a server span continuing the caller's trace (W3C traceparent), while tracing is on;
 * - one access-log line per call: debug when it succeeds (info would be a line for every turn
 *   of every session), info when it fails.
 * Controllers handed to callControllersDirectly are called straight, not through Nest's per-call
 * handler wrapper (guards, pipes, interceptors, filters: none of which the gRPC side uses).
 * Client-streaming methods (none in Troupe's contracts) keep Nest's own handling.
 */
export class ObservedGrpcServer extends ServerGrpc {
  /** "RoleContextService/AssembleContext" → the controller's method, bound, with errors as gRPC answers. */
  private readonly direct = new Map<string, MethodHandler>();

  constructor(
    options: GrpcOptions['options'],
    private readonly observers: GrpcCallObservers,
    private readonly log: Logger,
  ) {
    super(options);
  }

  /** Registers the @GrpcMethod handlers of these controller instances for direct calls. */
  callControllersDirectly(controllers: readonly object[]): void {
    for (const instance of controllers) {
      for (let proto = Object.getPrototypeOf(instance); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
        for (const name of Object.getOwnPropertyNames(proto)) {
          const fn = Object.getOwnPropertyDescriptor(proto, name)?.value as unknown;
          if (typeof fn !== 'function' || Reflect.getMetadata(TRANSPORT_METADATA, fn) !== Transport.GRPC) continue;
          for (const p of (Reflect.getMetadata(PATTERN_METADATA, fn) ?? []) as GrpcPattern[]) {
            if (p.streaming !== GrpcMethodStreamingType.NO_STREAMING) continue;
            const key = `${p.service}/${p.rpc}`;
            if (!this.direct.has(key)) this.direct.set(key, directHandler(instance, fn as (...args: unknown[]) => unknown, this.log));
          }
        }
      }
    }
  }

  override getMessageHandler(serviceName: string, methodName: string, streaming: GrpcMethodStreamingType, grpcMethod: { path?: string }) {
    if (streaming === GrpcMethodStreamingType.NO_STREAMING) {
      // Nest matches the service by its short name or by its package-qualified one.
      const direct = this.direct.get(`${serviceName}/${methodName}`) ?? this.direct.get(`${grpcMethod.path?.split('/')[1]}/${methodName}`);
      if (direct) return direct as unknown as ReturnType<ServerGrpc['getMessageHandler']>;
    }
    return super.getMessageHandler(serviceName, methodName, streaming, grpcMethod);
  }

  override createServiceMethod(methodHandler: MethodHandler, protoMethod: ProtoMethod, streamType: GrpcMethodStreamingType) {
    if (protoMethod.requestStream) return super.createServiceMethod(methodHandler, protoMethod, streamType);
    const path = protoMethod.path.replace(/^\//, '');
    // "InferenceService/Generate": the label and log name (the package is the same on every call).
    const method = path.slice(path.lastIndexOf('.', path.indexOf('/')) + 1);
    return protoMethod.responseStream ? this.serverStreamMethod(methodHandler, path, method) : this.unaryMethod(methodHandler, path, method);
  }

  private unaryMethod(handler: MethodHandler, path: string, method: string) {
    return (call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      const end = this.started(method, call);
      this.inCallContext(call.metadata, path, async (span) => {
        try {
          const result = await handler(call.request, call.metadata, call);
          const value = isObservable(result) ? await lastValueFrom(result, { defaultValue: undefined }) : result;
          end('ok', span);
          callback(null, value);
        } catch (e) {
          end('error', span, e);
          callback(e as Parameters<sendUnaryData<unknown>>[0]);
        }
      });
    };
  }

  private serverStreamMethod(handler: MethodHandler, path: string, method: string) {
    return (call: ServerWritableStream<unknown, unknown>) => {
      const end = this.started(method, call);
      return this.inCallContext(call.metadata, path, async (span) => {
        // Unsubscribed before it completed or failed: the client cancelled.
        let outcome: GrpcCallOutcome = 'cancelled';
        let error: unknown;
        try {
          const result$ = this.transformToObservable(await handler(call.request, call.metadata, call)).pipe(
            tap({
              complete: () => (outcome = 'ok'),
              error: (e: unknown) => ((outcome = 'error'), (error = e)),
            }),
          );
          await (this as unknown as NestStreamWriter).writeObservableToGrpc(result$, call);
        } catch (e) {
          outcome = 'error';
          error = e;
          call.emit('error', e);
        }
        end(outcome, span, error);
      });
    };
  }

  /** Tells the observers a call started; returns what ends it (observers, span, access log). */
  private started(method: string, call: { cancelled?: boolean }) {
    const observed = this.observers.start(method);
    const startedAt = performance.now();
    return (outcome: GrpcCallOutcome, span: Span | undefined, error?: unknown) => {
      if (outcome === 'ok' && call.cancelled) outcome = 'cancelled';
      observed(outcome);
      const ms = Math.round((performance.now() - startedAt) * 10) / 10;
      if (outcome === 'error') {
        this.log.info({ grpcMethod: method, ms, outcome, error: describe(error) }, 'grpc call');
        if (span) recordFailure(span, error);
      } else if (this.log.isLevelEnabled('debug')) this.log.debug({ grpcMethod: method, ms, outcome }, 'grpc call');
      if (span) {
        if (outcome === 'cancelled') span.setAttribute('troupe.cancelled', true);
        span.end();
      }
    };
  }

  /** Runs the call in the caller's log context and, while tracing, in a server span. */
  private inCallContext<T>(metadata: Metadata, path: string, run: (span: Span | undefined) => Promise<T>): Promise<T> {
    const fields = logContextOf(metadata);
    const inLogContext = (span: Span | undefined) => (fields ? withLogContext(fields, () => run(span)) : run(span));
    if (!isTracing()) return inLogContext(undefined);
    const [service, rpc] = path.split('/');
    const { span, context } = startSpan(path, {
      kind: SpanKind.SERVER,
      parent: extractTraceContext(metadata.getMap()),
      attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': rpc },
    });
    return runInContext(context, () => inLogContext(span));
  }
}

/**
 * A controller method as a gRPC handler, answering errors as Nest's RPC exception filter would
 * (an RpcException's error object; anything else is logged and answered INTERNAL).
 */
function directHandler(instance: object, method: (...args: unknown[]) => unknown, log: Logger): MethodHandler {
  const answer = (e: unknown) => {
    if (e instanceof RpcException) {
      const error = e.getError();
      return typeof error === 'object' ? error : { code: status.UNKNOWN, message: String(error) };
    }
    log.error({ err: e, grpcMethod: method.name }, 'gRPC handler failed');
    return { code: status.INTERNAL, message: 'Internal server error' };
  };
  return async (request, metadata, call) => {
    try {
      const result = await method.call(instance, request, metadata, call);
      return isObservable(result) ? result.pipe(catchError((e: unknown) => throwError(() => answer(e)))) : result;
    } catch (e) {
      throw answer(e);
    }
  };
}

/** x-troupe-turn-id: "t1" → { turnId: "t1" }; undefined when the caller sent none. */
function logContextOf(metadata: Metadata): Record<string, string> | undefined {
  let fields: Record<string, string> | undefined;
  for (const [key, value] of Object.entries(metadata.getMap())) {
    if (key.startsWith('x-troupe-') && typeof value === 'string') {
      fields ??= {};
      fields[key.slice('x-troupe-'.length).replace(/-([a-z])/g, (_, c: string) => c.toUpperCase())] = value;
    }
  }
  return fields;
}

function describe(e: unknown): string {
  if (e && typeof e === 'object' && 'message' in e) return String((e as { message: unknown }).message);
  return String(e);
}
