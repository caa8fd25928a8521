import { Injectable } from '@nestjs/common';
import { roleContext } from '@troupe/contracts';
import { HistoryRepository } from '../history/history.repository';
import { RoleContextConfig } from '../role-context.config';
import { RolesService } from '../roles/roles.service';
import { assembleMessages } from './context-assembler';

export class RoleNotFoundError extends Error {}

@Injectable()
export class ContextService {
  constructor(
    private readonly roles: RolesService,
    private readonly history: HistoryRepository,
    private readonly config: RoleContextConfig,
  ) {}

  async assemble(sessionId: string, roleId: string): Promise<roleContext.AssembleContextResponse> {
    const role = await this.roles.get(roleId);
    if (!role) throw new RoleNotFoundError(`role "${roleId}" not found`);
    const entries = await this.history.recent(sessionId, this.config.CONTEXT_MAX_HISTORY_ENTRIES);
    return { role, messages: assembleMessages(role, entries), historyEntries: entries.length };
  }
}
