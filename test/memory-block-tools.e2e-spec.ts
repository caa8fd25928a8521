import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { PROTO_LOADER_OPTIONS, PROTO_ROOT, ROLE_CONTEXT_CONTRACT, roleContext } from '@troupe/contracts';
import { GrpcClient } from '@troupe/grpc';
import { join } from 'node:path';
import { RoleContextAdapter } from '../apps/tool-plugin/src/peers/role-context.adapter';
import { memoryBlockTools } from '../apps/tool-plugin/src/tools/builtin/memory-block.tools';
import { ToolRegistry } from '../apps/tool-plugin/src/tools/tool-registry';

/**
 * The memory tools over a real gRPC client against a small real server implementing
 * role-context's memory-block RPCs as the contract describes them (role-context's own
 * implementation lands with its issue; this pins the contract the tools rely on).
 */
class MemoryBlockServer {
  readonly blocks = new Map<string, roleContext.MemoryBlock>();
  private readonly server = new grpc.Server();

  constructor() {
    const definition = protoLoader.loadSync(join(PROTO_ROOT, ROLE_CONTEXT_CONTRACT.protoFile), { ...PROTO_LOADER_OPTIONS });
    const service = (grpc.loadPackageDefinition(definition) as any).troupe.role_context.v1.RoleContextService.service;
    const key = (r: { roleId: string; name: string }) => `${r.roleId}/${r.name}`;
    this.server.addService(service, {
      listMemoryBlocks: (call: any, cb: grpc.sendUnaryData<roleContext.ListMemoryBlocksResponse>) =>
        cb(null, { blocks: [...this.blocks.entries()].filter(([k]) => k.startsWith(`${call.request.roleId}/`)).map(([, b]) => b) }),
      getMemoryBlock: (call: any, cb: grpc.sendUnaryData<roleContext.GetMemoryBlockResponse>) => {
        const block = this.blocks.get(key(call.request));
        if (!block) return cb({ code: grpc.status.NOT_FOUND, details: `memory block "${call.request.name}" not found` });
        cb(null, { block });
      },
      putMemoryBlock: (call: any, cb: grpc.sendUnaryData<roleContext.PutMemoryBlockResponse>) => {
        const r = call.request as roleContext.PutMemoryBlockRequest;
        const old = this.blocks.get(key(r));
        if (r.expectedVersion && (old?.version ?? 0) !== r.expectedVersion) {
          return cb({ code: grpc.status.FAILED_PRECONDITION, details: `block is at version ${old?.version ?? 0}, not ${r.expectedVersion}` });
        }
        const text = r.mode === 'append' && old ? old.text + r.text : r.text;
        const limit = old?.limit ?? 100;
        if (text.length > limit) return cb({ code: grpc.status.INVALID_ARGUMENT, details: `text: ${text.length} characters, limit ${limit}` });
        const block = { name: r.name, scope: 'role', text, limit, version: (old?.version ?? 0) + 1, updatedAt: String(Date.now()) };
        this.blocks.set(key(r), block);
        cb(null, { block });
      },
    });
  }

  listen(): Promise<number> {
    return new Promise((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => (e ? reject(e) : resolve(port))),
    );
  }

  stop(): void {
    this.server.forceShutdown();
  }
}

describe('memory-block tools through role-context gRPC', () => {
  const server = new MemoryBlockServer();
  let adapter: RoleContextAdapter;
  const registry = new ToolRegistry(64 * 1024);
  const ctx = { roleId: 'helper', sessionId: 's1', turnId: 't1', userId: 'ada' };

  beforeAll(async () => {
    adapter = new RoleContextAdapter(new GrpcClient(ROLE_CONTEXT_CONTRACT, `127.0.0.1:${await server.listen()}`, 5000));
    memoryBlockTools(adapter).forEach((t) => registry.register(t));
  });

  afterAll(() => {
    adapter.close();
    server.stop();
  });

  it('writes, appends, reads and lists a block', async () => {
    await expect(registry.invoke('memory_write', '{"name":"notes","text":"likes tea"}', ctx)).resolves.toMatchObject({ name: 'notes', text: 'likes tea', version: 1 });
    await expect(registry.invoke('memory_write', '{"name":"notes","text":"; hates mornings","mode":"append"}', ctx)).resolves.toMatchObject({ version: 2 });
    await expect(registry.invoke('memory_read', '{"name":"notes"}', ctx)).resolves.toMatchObject({ text: 'likes tea; hates mornings', version: 2, limit: 100 });
    const listed = (await registry.invoke('memory_list', '{}', ctx)) as { blocks: { name: string }[] };
    expect(listed.blocks.map((b) => b.name)).toEqual(['notes']);
    await expect(registry.invoke('memory_list', '{}', { ...ctx, roleId: 'critic' })).resolves.toEqual({ blocks: [] });
  });

  it('passes the service\'s refusals on so the model can correct itself', async () => {
    await expect(registry.invoke('memory_read', '{"name":"missing"}', ctx)).rejects.toMatchObject({ code: 'INVALID_ARGUMENTS', message: 'name: no memory block "missing"' });
    await expect(registry.invoke('memory_write', JSON.stringify({ name: 'notes', text: 'x'.repeat(200) }), ctx)).rejects.toMatchObject({
      code: 'TOOL_FAILED',
      message: expect.stringContaining('INVALID_ARGUMENT: text: 200 characters, limit 100'),
    });
    await expect(registry.invoke('memory_write', '{"name":"notes","text":"stale","expected_version":1}', ctx)).rejects.toMatchObject({
      message: expect.stringContaining('FAILED_PRECONDITION'),
    });
    await expect(registry.invoke('memory_write', '{"name":"bad name!","text":"x"}', ctx)).rejects.toMatchObject({ code: 'INVALID_ARGUMENTS', message: expect.stringContaining('name: must match pattern') });
  });
});
