import { resolvePolicy } from '../director/session-policy';
import { Module } from '@nestjs/common';
import { DirectorPortsFactory } from '../director/director-ports.factory';
import { DirectorModule } from '../director/director.module';
import { RoleContextClient } from '../peers/role-context.client';
import { SessionsModule } from '../sessions/sessions.module';
import { SessionsService } from '../sessions/sessions.service';
import { AgentAnnouncer } from './agent-announcer';
import { AgentQueues } from './agent-queues';
import { AgentRunStore } from './agent-run.store';
import { AgentRunner } from './agent-runner';
import { AgentRunsProcessor } from './agent-runs.processor';
import { AgentRunsService } from './agent-runs.service';

/** Background agent runs: the BullMQ queues, their workers, run records and announcements. */
@Module({
  imports: [DirectorModule, SessionsModule],
  providers: [
    AgentQueues,
    AgentRunStore,
    AgentRunsService,
    AgentAnnouncer,
    AgentRunsProcessor,
    {
      provide: AgentRunner,
      inject: [RoleContextClient, DirectorPortsFactory, SessionsService],
      useFactory: (roleContext: RoleContextClient, ports: DirectorPortsFactory, sessions: SessionsService) =>
        new AgentRunner({
          getRole: async (id) => {
            const { role } = await roleContext.getRole(id);
            return { id: role!.id, name: role!.name, version: role!.version };
          },
          openSession: async (role, runId, sessionId) => {
            const owner = { userId: `agent:${runId}`, name: 'agent', roles: [], anonymous: false };
            await sessions.openWithRoles([role], resolvePolicy({ turnPolicy: 'single' }), owner, sessionId);
          },
          director: ports.create(),
        }),
    },
  ],
  exports: [AgentRunsService, AgentQueues],
})
export class AgentsModule {}
