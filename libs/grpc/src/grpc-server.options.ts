import { GrpcOptions, Transport } from '@nestjs/microservices';
import { GrpcServiceContract, PROTO_LOADER_OPTIONS, PROTO_ROOT } from '@troupe/contracts';
import { join } from 'node:path';

/** Nest gRPC microservice options for one contract, with graceful shutdown (in-flight calls finish). */
export function grpcServerOptions(contract: GrpcServiceContract, url: string, maxMessageBytes: number): GrpcOptions {
  return {
    transport: Transport.GRPC,
    options: {
      url,
      package: contract.packageName,
      protoPath: join(PROTO_ROOT, contract.protoFile),
      loader: { ...PROTO_LOADER_OPTIONS },
      gracefulShutdown: true,
      maxReceiveMessageLength: maxMessageBytes,
      maxSendMessageLength: maxMessageBytes,
    },
  };
}
