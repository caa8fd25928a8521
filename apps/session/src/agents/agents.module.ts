import { resolvePolicy } from '../director/session-policy';
import { Module } from '@nestjs/common';
import { ChatError } from '@troupe/domain';
import { GrpcCallError, GrpcStatus } from '@troupe/grpc';
import { ApprovalsModule } from '../approvals/approvals.module';
import { ApprovalsService } from '../approvals/approvals.service';
import { SessionBudget } from '../director/session-budget';
import { SessionEventsService } from '../events/session-events.service';
import { InferenceClient } from '../peers/inference.client';
import { RoleContextClient } from '../peers/role-context.client';
import { ToolPluginClient } from '../peers/tool-plugin.client';
import { SessionsModule } from '../sessions/sessions.module';
import { SessionsService } from '../sessions/sessions.service';
import { AgentAnnouncer } from './agent-announcer';
import { AgentQueues } from './agent-queues';
import { AgentRunStore } from './agent-run.store';
import { AgentRunner } from './agent-runner';
import { AgentRunsProcessor } from './agent-runs.processor';
import { AgentRunsService } from './agent-runs.service';

function describeUpstreamError(e: unknown): ChatError {
  const unavailable = e instanceof GrpcCallError && [GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED].includes(e.code);
  return { code: unavailable ? 'UPSTREAM_UNAVAILABLE' : 'INTERNAL', message: (e as Error).message ?? String(e) };
}

/** Background agent runs: the BullMQ queues, their workers, run records and announcements. */
@Module({
  imports: [ApprovalsModule, SessionsModule],
  providers: [
    AgentQueues,
    AgentRunStore,
    AgentRunsService,
    AgentAnnouncer,
    AgentRunsProcessor,
    SessionBudget,
    {
      provide: AgentRunner,
      inject: [RoleContextClient, InferenceClient, ToolPluginClient, SessionBudget, ApprovalsService, SessionEventsService, SessionsService],
      useFactory: (
        roleContext: RoleContextClient,
        inference: InferenceClient,
        toolPlugin: ToolPluginClient,
        budget: SessionBudget,
        approvals: ApprovalsService,
        events: SessionEventsService,
        sessions: SessionsService,
      ) =>
        new AgentRunner({
          getRole: async (id) => {
            const { role } = await roleContext.getRole(id);
            return { id: role!.id, name: role!.name, version: role!.version };
          },
          openSession: async (role, runId) => {
            const owner = { userId: `agent:${runId}`, name: 'agent', roles: [], anonymous: false };
            const session = await sessions.open([role.id], resolvePolicy({ turnPolicy: 'single' }), owner);
            return session.id;
          },
          director: {
            appendHistory: (r) => roleContext.appendHistory(r),
            assembleContext: (r) => roleContext.assembleContext(r),
            generate: (r, signal) => inference.generate(r, { signal }),
            invokeTool: (r, signal) => toolPlugin.invokeTool(r, { signal }),
            emit: (sessionId, event, payload) => events.publish(sessionId, event, payload),
            chargeSession: (sessionId, tokens, toolCalls) => budget.charge(sessionId, tokens, toolCalls),
            describeError: describeUpstreamError,
            awaitApproval: (request, signal) => approvals.request(request, signal),
          },
        }),
    },
  ],
  exports: [AgentRunsService, AgentQueues],
})
export class AgentsModule {}
