import { status } from '@grpc/grpc-js';
import type { GrpcServiceContract } from '@troupe/contracts';
import { Span, SpanKind, SpanStatusCode, TraceCarrier, injectTraceContext, isTracing, startSpan } from '@troupe/tracing';

/** A client call's span: its context as the carrier sent in metadata, ended once with the call's status. */
export interface RpcSpan {
  readonly carrier: TraceCarrier | undefined;
  end(code: status, details?: string): void;
}

/** `troupe.inference.v1.InferenceService/Generate`, the span name the RPC conventions ask for. */
export function rpcSpanName(contract: GrpcServiceContract, method: string): string {
  return `${contract.packageName}.${contract.serviceName}/${method.charAt(0).toUpperCase()}${method.slice(1)}`;
}

export function rpcAttributes(contract: GrpcServiceContract, method: string) {
  return { 'rpc.system': 'grpc', 'rpc.service': `${contract.packageName}.${contract.serviceName}`, 'rpc.method': method };
}

/** What a call carries while tracing is off: no span, no carrier. */
const UNTRACED: RpcSpan = { carrier: undefined, end: () => undefined };

export function startRpcClientSpan(contract: GrpcServiceContract, method: string): RpcSpan {
  if (!isTracing()) return UNTRACED;
  const { span, context } = startSpan(rpcSpanName(contract, method), { kind: SpanKind.CLIENT, attributes: rpcAttributes(contract, method) });
  let ended = false;
  return {
    carrier: injectTraceContext(context),
    end: (code, details) => {
      if (ended) return;
      ended = true;
      endRpcSpan(span, code, details);
    },
  };
}

/** Records the gRPC status on the span (OK leaves the status unset, as the conventions say) and ends it. */
export function endRpcSpan(span: Span, code: status, details?: string): void {
  span.setAttribute('rpc.grpc.status_code', code);
  if (code !== status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: `${status[code] ?? code}${details ? `: ${details}` : ''}` });
  span.end();
}
