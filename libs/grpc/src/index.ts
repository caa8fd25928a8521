export * from './grpc-server.options';
export * from './grpc-client';
export * from './grpc-call-observers';
export * from './observed-grpc.server';
export { status as GrpcStatus } from '@grpc/grpc-js';
export * from './grpc-errors';
export * from './validate-request';
export * from './reusable-response';
