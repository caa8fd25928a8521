import { CallHandler, Controller, ExecutionContext, INestMicroservice, Module, NestInterceptor } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { GrpcMethod, RpcException } from '@nestjs/microservices';
import { status } from '@grpc/grpc-js';
import { ROLE_CONTEXT_CONTRACT } from '@troupe/contracts';
import { createLogger, currentLogContext, withLogContext } from '@troupe/logging';
import { createServer } from 'node:net';
import { GrpcCallError, GrpcClient } from './grpc-client';
import { GrpcCallObservers } from './grpc-call-observers';
import { grpcServerOptions } from './grpc-server.options';
import { ObservedGrpcServer } from './observed-grpc.server';

@Controller()
class FakeRoleContextController {
  readonly seenContexts: unknown[] = [];

  @GrpcMethod('RoleContextService', 'GetCacheStats')
  getCacheStats() {
    this.seenContexts.push(currentLogContext());
    return { classes: [] };
  }

  @GrpcMethod('RoleContextService', 'GetRole')
  async getRole(request: { id: string }) {
    if (request.id === 'missing') throw new RpcException({ code: status.NOT_FOUND, message: 'role "missing" not found' });
    throw new Error('a bug with a private detail');
  }
}

@Module({ controllers: [FakeRoleContextController] })
class FakeModule {}

/** Counts the calls that went through Nest's handler wrapper (none should). */
class CountingInterceptor implements NestInterceptor {
  count = 0;
  intercept(_context: ExecutionContext, next: CallHandler) {
    this.count++;
    return next.handle();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

describe('ObservedGrpcServer', () => {
  let app: INestMicroservice;
  let client: GrpcClient;
  const outcomes: string[] = [];
  const wrapperCalls = new CountingInterceptor();

  beforeAll(async () => {
    const observers = new GrpcCallObservers();
    observers.add({ callStarted: (method) => (outcome) => outcomes.push(`${method} ${outcome}`) });
    const address = `127.0.0.1:${await freePort()}`;
    const strategy = new ObservedGrpcServer(grpcServerOptions(ROLE_CONTEXT_CONTRACT, address, 1024 * 1024).options, observers, createLogger('test', 'silent'));
    app = await NestFactory.createMicroservice(FakeModule, { strategy, logger: false });
    app.useGlobalInterceptors(wrapperCalls);
    strategy.callControllersDirectly([app.get(FakeRoleContextController)]);
    await app.listen();
    client = new GrpcClient(ROLE_CONTEXT_CONTRACT, address, 5_000);
  });

  afterAll(async () => {
    client.close();
    await app.close();
  });

  beforeEach(() => (outcomes.length = 0));

  it('calls the controller directly and tells the observers the method and outcome', async () => {
    await expect(client.unary('getCacheStats', {})).resolves.toEqual({ classes: [] });
    expect(outcomes).toEqual(['RoleContextService/GetCacheStats ok']);
    expect(wrapperCalls.count).toBe(0);
  });

  it('runs the handler in the log context the caller sent as x-troupe-* metadata', async () => {
    const controller = app.get(FakeRoleContextController);
    await withLogContext({ turnId: 't-42', sessionId: 's-7' }, () => client.unary('getCacheStats', {}));
    expect(controller.seenContexts.at(-1)).toEqual({ turnId: 't-42', sessionId: 's-7' });
    // A caller with no context: the handler runs with none.
    await client.unary('getCacheStats', {});
    expect(controller.seenContexts.at(-1)).toBeUndefined();
  });

  it("answers an RpcException with its status and message, and anything else as INTERNAL without the error's text", async () => {
    const missing = await client.unary('getRole', { id: 'missing', version: 0 }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(GrpcCallError);
    expect(missing).toMatchObject({ code: status.NOT_FOUND, details: 'role "missing" not found' });
    const broken = await client.unary('getRole', { id: 'bug', version: 0 }).catch((e: unknown) => e);
    expect(broken).toMatchObject({ code: status.INTERNAL, details: 'Internal server error' });
    expect(outcomes).toEqual(['RoleContextService/GetRole error', 'RoleContextService/GetRole error']);
  });

  it('leaves methods no controller serves unimplemented', async () => {
    const error = await client.unary('listRoles', {}, { deadlineMs: 2_000 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: status.UNIMPLEMENTED });
  });
});
