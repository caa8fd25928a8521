import { status } from '@grpc/grpc-js';
import { RpcException } from '@nestjs/microservices';

/** An error a gRPC handler throws to answer with a specific status code. */
export function grpcError(code: status, message: string): RpcException {
  return new RpcException({ code, message });
}

export const invalidArgument = (field: string, problem: string) =>
  grpcError(status.INVALID_ARGUMENT, `${field}: ${problem}`);
export const notFound = (what: string) => grpcError(status.NOT_FOUND, what);
