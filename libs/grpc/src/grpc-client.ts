import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { GrpcServiceContract, PROTO_LOADER_OPTIONS, PROTO_ROOT } from '@troupe/contracts';
import { currentLogContext } from '@troupe/logging';
import { RpcSpan, startRpcClientSpan } from './grpc-tracing';
import { join } from 'node:path';

export interface GrpcCallOptions {
  /** Overrides the client's default deadline. */
  deadlineMs?: number;
  /** Aborting cancels the call on both ends. */
  signal?: AbortSignal;
}

const grpcStatusName = (code: grpc.status): string => grpc.status[code] ?? String(code);

/** A failed call, with the gRPC status code kept so callers can map it. */
export class GrpcCallError extends Error {
  constructor(
    readonly method: string,
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(`${method} failed: ${grpcStatusName(code)}: ${details}`);
    this.name = 'GrpcCallError';
  }

  /** The status as gRPC names it (UNAVAILABLE, NOT_FOUND, ...). */
  get statusName(): string {
    return grpcStatusName(this.code);
  }
}

type Untyped = Record<string, (...args: unknown[]) => unknown>;

/**
 * The call surface typed clients use: one channel (GrpcClient) or a balanced pool over the
 * instances found in the service registry (@troupe/discovery), interchangeably.
 */
export interface GrpcCaller {
  readonly contract: GrpcServiceContract;
  /** Where calls go: host:port, or a description of the discovered instances. */
  readonly address: string;
  unary<Req, Res>(method: string, request: Req, options?: GrpcCallOptions): Promise<Res>;
  serverStream<Req, Res>(method: string, request: Req, options?: GrpcCallOptions): AsyncGenerator<Res>;
  /**
   * The call sent to every instance behind this caller (e.g. an operator's model reload), with
   * each one's answer or error; never retried. One outcome when there is one address.
   */
  unaryEach<Req, Res>(method: string, request: Req, options?: GrpcCallOptions): Promise<InstanceOutcome<Res>[]>;
  waitForReady(timeoutMs: number): Promise<void>;
  close(): void;
}

/** What one instance answered to a call sent to every instance. */
export interface InstanceOutcome<Res> {
  instance: string;
  address: string;
  response?: Res;
  error?: GrpcCallError;
}

/** Runs `call` and keeps its answer or its GrpcCallError as an outcome (anything else is thrown). */
export async function outcomeOf<Res>(instance: string, address: string, call: () => Promise<Res>): Promise<InstanceOutcome<Res>> {
  try {
    return { instance, address, response: await call() };
  } catch (e) {
    if (e instanceof GrpcCallError) return { instance, address, error: e };
    throw e;
  }
}

/**
 * Starts a call without the stack trace grpc-js captures at every call start (`new Error()`,
 * kept for the error it would build if the call failed): capturing it cost a call ~4.5 µs and
 * garbage that outlived the call. A failed call becomes a GrpcCallError here anyway, whose
 * message names the method and status.
 */
function withoutCallerStack<T>(start: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return start();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Channel options: round_robin over every address a name resolves to, so a DNS name with many
 * A records (a Kubernetes headless service) spreads calls instead of pinning the first one.
 */
const CHANNEL_SERVICE_CONFIG = JSON.stringify({ loadBalancingConfig: [{ round_robin: {} }] });

/**
 * The one adapter over @grpc/grpc-js for calling another Troupe service: deadlines on every
 * call, cancellation from an AbortSignal, the log context (request/turn ids) sent as
 * metadata so the callee's logs carry it too, and a client span per call whose trace context
 * travels in the metadata (W3C traceparent).
 */
export class GrpcClient implements GrpcCaller {
  private readonly client: grpc.Client & Untyped;

  constructor(
    readonly contract: GrpcServiceContract,
    readonly address: string,
    private readonly defaultDeadlineMs: number,
    maxMessageBytes = 4 * 1024 * 1024,
  ) {
    const definition = protoLoader.loadSync(join(PROTO_ROOT, contract.protoFile), { ...PROTO_LOADER_OPTIONS });
    const pkg = grpc.loadPackageDefinition(definition);
    const ServiceClient = contract.packageName
      .split('.')
      .concat(contract.serviceName)
      .reduce<unknown>((node, part) => (node as Record<string, unknown>)[part], pkg) as grpc.ServiceClientConstructor;
    this.client = new ServiceClient(address, grpc.credentials.createInsecure(), {
      'grpc.max_receive_message_length': maxMessageBytes,
      'grpc.max_send_message_length': maxMessageBytes,
      'grpc.keepalive_time_ms': 30_000,
      'grpc.service_config': CHANNEL_SERVICE_CONFIG,
      // Channelz (grpc-js's introspection service, which Troupe does not serve) tracks every call.
      'grpc.enable_channelz': 0,
    }) as unknown as grpc.Client & Untyped;
  }

  unary<Req, Res>(method: string, request: Req, options: GrpcCallOptions = {}): Promise<Res> {
    const span = startRpcClientSpan(this.contract, method);
    return new Promise<Res>((resolve, reject) => {
      const call = withoutCallerStack(
        () =>
          this.client[method](
            request,
            this.metadata(span),
            { deadline: this.deadline(options) },
            (error: grpc.ServiceError | null, response: Res) => {
              options.signal?.removeEventListener('abort', onAbort);
              span.end(error?.code ?? grpc.status.OK, error?.details);
              if (error) reject(new GrpcCallError(method, error.code, error.details));
              else resolve(response);
            },
          ) as grpc.ClientUnaryCall,
      );
      const onAbort = () => call.cancel();
      if (options.signal?.aborted) call.cancel();
      else options.signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A server-streamed call as an async iterable; breaking out of the loop cancels the call. */
  async *serverStream<Req, Res>(method: string, request: Req, options: GrpcCallOptions = {}): AsyncGenerator<Res> {
    const span = startRpcClientSpan(this.contract, method);
    const call = withoutCallerStack(() => this.client[method](request, this.metadata(span), { deadline: this.deadline(options) }) as grpc.ClientReadableStream<Res>);
    const onAbort = () => call.cancel();
    if (options.signal?.aborted) call.cancel();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    let completed = false;
    try {
      for await (const message of call) yield message as Res;
      completed = true;
      span.end(grpc.status.OK);
    } catch (e) {
      const error = e as grpc.ServiceError;
      span.end(error.code ?? grpc.status.UNKNOWN, error.details ?? error.message);
      throw new GrpcCallError(method, error.code ?? grpc.status.UNKNOWN, error.details ?? error.message);
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      if (!completed) call.cancel();
      span.end(grpc.status.CANCELLED, 'the caller stopped reading');
    }
  }

  /** Resolves once the channel is connected; used by readiness checks. */
  waitForReady(timeoutMs: number): Promise<void> {
    return new Promise((resolve, reject) =>
      this.client.waitForReady(Date.now() + timeoutMs, (error?: Error) =>
        error ? reject(new Error(`${this.contract.serviceName} at ${this.address}: ${error.message}`)) : resolve(),
      ),
    );
  }

  async unaryEach<Req, Res>(method: string, request: Req, options?: GrpcCallOptions): Promise<InstanceOutcome<Res>[]> {
    return [await outcomeOf(this.address, this.address, () => this.unary<Req, Res>(method, request, options))];
  }

  close(): void {
    this.client.close();
  }

  private deadline(options: GrpcCallOptions): Date {
    return new Date(Date.now() + (options.deadlineMs ?? this.defaultDeadlineMs));
  }

  /** Log context as x-troupe-* entries, and the call's span as W3C traceparent/tracestate. */
  private metadata(span: RpcSpan): grpc.Metadata {
    const metadata = new grpc.Metadata();
    for (const [key, value] of Object.entries(span.carrier ?? {})) metadata.set(key, value);
    for (const [key, value] of Object.entries(currentLogContext() ?? {})) {
      metadata.set(`x-troupe-${key.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())}`, value);
    }
    return metadata;
  }
}
