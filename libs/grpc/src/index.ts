export * from './grpc-server.options';
export * from './grpc-client';
export * from './grpc-server-call.interceptor';
export { status as GrpcStatus } from '@grpc/grpc-js';
export * from './grpc-errors';
export * from './validate-request';
export * from './reusable-response';
