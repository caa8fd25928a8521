import { FIND_TOOLS, ToolAccess } from '../../grants/tool-access';
import { Tool } from '../tool';
import { toolSchemaView } from '../tool-view';

/** Offered instead of a long tool list; what it finds is callable for the rest of the turn. */
export function findToolsTool(access: () => ToolAccess): Tool<{ query: string; limit?: number }> {
  return {
    name: FIND_TOOLS,
    description: 'Searches the tools you may use by what they do; returns the schemas of the best matches, which you can then call.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', minLength: 1, maxLength: 500, description: 'What you want to do, e.g. "convert currency"' },
        limit: { type: 'integer', minimum: 1, maximum: 20, description: 'Most tools to return, default 5' },
      },
      required: ['query'],
      additionalProperties: false,
    },
    hints: { readOnly: true, idempotent: true },
    source: 'builtin',
    run: async ({ query, limit = 5 }, ctx) => ({ tools: (await access().find(ctx, query, limit)).map(toolSchemaView) }),
  };
}
