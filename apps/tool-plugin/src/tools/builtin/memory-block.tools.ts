import type { roleContext } from '@troupe/contracts';
import { MemoryBlockStore } from '../../peers/peer-ports';
import { CallContext, Tool, ToolCallError } from '../tool';

const blockName = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,64}$', description: 'The block\'s name, e.g. "notes"' };

const view = (b: roleContext.MemoryBlock) => ({ name: b.name, scope: b.scope, text: b.text, limit: b.limit, version: b.version, updatedAt: b.updatedAt });

function requireRole(context: CallContext): string {
  if (!context.roleId) throw new ToolCallError('INVALID_ARGUMENTS', 'role_id: memory tools need the calling role');
  return context.roleId;
}

/** Reading and writing the role's memory blocks, which role-context keeps. */
export function memoryBlockTools(store: MemoryBlockStore): Tool<any, any>[] {
  const list: Tool<Record<string, never>> = {
    name: 'memory_list',
    description: 'Lists your memory blocks (name, scope, size limit, version) with their text.',
    parameters: { type: 'object', properties: {}, additionalProperties: false },
    hints: { readOnly: true, idempotent: true },
    source: 'builtin',
    run: async (_args, ctx) => ({ blocks: (await store.list(requireRole(ctx), ctx.userId)).map(view) }),
  };
  const read: Tool<{ name: string }> = {
    name: 'memory_read',
    description: 'Reads one of your memory blocks by name.',
    parameters: { type: 'object', properties: { name: blockName }, required: ['name'], additionalProperties: false },
    hints: { readOnly: true, idempotent: true },
    source: 'builtin',
    run: async ({ name }, ctx) => {
      const block = await store.get(requireRole(ctx), ctx.userId, name);
      if (!block) throw new ToolCallError('INVALID_ARGUMENTS', `name: no memory block "${name}"`);
      return view(block);
    },
  };
  const write: Tool<{ name: string; text: string; mode?: 'replace' | 'append'; expected_version?: number }> = {
    name: 'memory_write',
    description: 'Replaces or appends to one of your memory blocks. Pass expected_version to fail instead of overwriting a newer edit.',
    parameters: {
      type: 'object',
      properties: {
        name: blockName,
        text: { type: 'string', maxLength: 100000 },
        mode: { type: 'string', enum: ['replace', 'append'], description: 'Default "replace"' },
        expected_version: { type: 'integer', minimum: 1 },
      },
      required: ['name', 'text'],
      additionalProperties: false,
    },
    hints: { readOnly: false, destructive: true, idempotent: false },
    source: 'builtin',
    run: async ({ name, text, mode = 'replace', expected_version = 0 }, ctx) =>
      view(await store.put({ roleId: requireRole(ctx), userId: ctx.userId, name, text, mode, expectedVersion: expected_version, scope: '' })),
  };
  return [list, read, write];
}
