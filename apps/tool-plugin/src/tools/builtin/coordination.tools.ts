import { RoleDirectory } from '../../peers/peer-ports';
import { Tool, ToolCallError } from '../tool';

const roleId = { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' };

async function requireRole(roles: RoleDirectory, field: string, id: string): Promise<void> {
  if ((await roles.grantsOf(id)) === null) throw new ToolCallError('INVALID_ARGUMENTS', `${field}: no role "${id}"`);
}

/**
 * handoff and delegate do nothing here: their result is a directive the director carries out
 * (it ends the turn and gives the floor away, or enqueues a background job).
 */
export function coordinationTools(roles: RoleDirectory): Tool<any, any>[] {
  const handoff: Tool<{ to_role: string; reason: string }> = {
    name: 'handoff',
    description: 'Hands the conversation to another role, which speaks next. Ends your turn.',
    parameters: {
      type: 'object',
      properties: { to_role: { ...roleId, description: 'Id of the role to hand over to' }, reason: { type: 'string', minLength: 1, maxLength: 1000 } },
      required: ['to_role', 'reason'],
      additionalProperties: false,
    },
    result: {
      type: 'object',
      properties: { directive: { const: 'handoff' }, to_role: { type: 'string' }, reason: { type: 'string' }, instruction: { type: 'string' } },
      required: ['directive', 'to_role', 'reason'],
    },
    hints: { readOnly: true, idempotent: true },
    source: 'builtin',
    run: async ({ to_role, reason }, ctx) => {
      if (to_role === ctx.roleId) throw new ToolCallError('INVALID_ARGUMENTS', 'to_role: cannot hand off to yourself');
      await requireRole(roles, 'to_role', to_role);
      return { directive: 'handoff', to_role, reason, instruction: `end this turn; ${to_role} speaks next` };
    },
  };
  const delegate: Tool<{ role: string; task: string }> = {
    name: 'delegate',
    description: 'Gives a task to another role to run in the background; its result is announced to the session later.',
    parameters: {
      type: 'object',
      properties: { role: { ...roleId, description: 'Id of the role to run the task' }, task: { type: 'string', minLength: 1, maxLength: 8000 } },
      required: ['role', 'task'],
      additionalProperties: false,
    },
    result: {
      type: 'object',
      properties: { directive: { const: 'delegate' }, role: { type: 'string' }, task: { type: 'string' }, instruction: { type: 'string' } },
      required: ['directive', 'role', 'task'],
    },
    hints: { readOnly: false, idempotent: false, openWorld: false },
    source: 'builtin',
    run: async ({ role, task }) => {
      await requireRole(roles, 'role', role);
      return { directive: 'delegate', role, task, instruction: `enqueue a background run of ${role} on the task; continue this turn` };
    },
  };
  return [handoff, delegate];
}
