import { GrpcOptions, Transport } from '@nestjs/microservices';
import { GrpcServiceContract, PROTO_LOADER_OPTIONS, PROTO_ROOT } from '@troupe/contracts';
import { join } from 'node:path';
import { reuseEncodedResponses } from './reusable-response';

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
      // Channelz (grpc-js's introspection service, which Troupe does not serve) tracks every call.
      channelOptions: { 'grpc.enable_channelz': 0 },
      // Cached answers (reusableResponse) are encoded once, not on every call.
      onLoadPackageDefinition: (definition) => reuseEncodedResponses(definition),
    },
  };
}
