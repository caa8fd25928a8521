import { roleContext } from '@troupe/contracts';
import { RoleDefinitionDto } from './dto/role-definition.dto';

/** A stored role: its definition plus the version Redis assigned to it. */
export type StoredRole = roleContext.Role;

export function toStoredRole(definition: RoleDefinitionDto, version: number): StoredRole {
  return {
    id: definition.id,
    version,
    name: definition.name,
    description: definition.description ?? '',
    persona: definition.persona,
    model: definition.model,
    generation: { ...definition.generation },
    tools: [...(definition.tools ?? [])],
    contextTokenBudget: definition.contextTokenBudget,
    // Definitions stored before these fields existed read as the defaults.
    goals: [...(definition.goals ?? [])],
    style: definition.style ?? '',
    variables: { ...(definition.variables ?? {}) },
    cacheClass: definition.cacheClass ?? 'persona',
    memory: {
      blockLimitChars: definition.memory?.blockLimitChars ?? 2000,
      sharedBlocks: [...(definition.memory?.sharedBlocks ?? [])],
      recallTopK: definition.memory?.recallTopK ?? 0,
    },
  };
}
