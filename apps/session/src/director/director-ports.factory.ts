import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ChatError } from '@troupe/domain';
import { GrpcCallError, GrpcStatus } from '@troupe/grpc';
import { ApprovalsService } from '../approvals/approvals.service';
import { SessionEventsService } from '../events/session-events.service';
import { InferenceClient } from '../peers/inference.client';
import { RoleContextClient } from '../peers/role-context.client';
import { ToolPluginClient } from '../peers/tool-plugin.client';
import { DirectorPorts } from './director';
import { SessionBudget } from './session-budget';
import { AgentRunsService } from '../agents/agent-runs.service';
import type { AgentRunPayload } from '@troupe/domain';

/** A peer's failure as people see it: unavailable (try later) or internal. */
export function describeUpstreamError(e: unknown): ChatError {
  if (e instanceof GrpcCallError) {
    const unavailable = [GrpcStatus.UNAVAILABLE, GrpcStatus.DEADLINE_EXCEEDED].includes(e.code);
    return { code: unavailable ? 'UPSTREAM_UNAVAILABLE' : 'INTERNAL', message: e.message };
  }
  return { code: 'INTERNAL', message: (e as Error).message ?? String(e) };
}

/** Wires the real gRPC clients, event log, budget and approvals into a Director (chat and agent runs alike). */
@Injectable()
export class DirectorPortsFactory {
  constructor(
    private readonly roleContext: RoleContextClient,
    private readonly inference: InferenceClient,
    private readonly toolPlugin: ToolPluginClient,
    private readonly budget: SessionBudget,
    private readonly approvals: ApprovalsService,
    private readonly events: SessionEventsService,
    private readonly moduleRef: ModuleRef,
  ) {}

  create(): DirectorPorts {
    return {
      appendHistory: (r) => this.roleContext.appendHistory(r),
      assembleContext: (r) => this.roleContext.assembleContext(r),
      // Tokens are sent on at the token interval anyway: inference may hold them that long too,
      // so fewer, fuller messages cross (the first token never waits).
      generate: (r, signal) => this.inference.generate({ ...r, streamIntervalMs: r.streamIntervalMs || this.events.tokenIntervalMs }, { signal }),
      invokeTool: (r, signal) => this.toolPlugin.invokeTool(r, { signal }),
      emit: (sessionId, event, payload) => this.events.publish(sessionId, event, payload),
      chargeSession: (sessionId, tokens, toolCalls) => this.budget.charge(sessionId, tokens, toolCalls),
      describeError: describeUpstreamError,
      awaitApproval: (request, signal) => this.approvals.request(request, signal),
      delegate: async ({ sessionId, turnId, callId, role, task }) => {
        // Looked up when used: agent runs build on the director, so the modules cannot import each other.
        const runs = this.moduleRef.get(AgentRunsService, { strict: false });
        const { run } = await runs.enqueue({ role, task, sessionId, idempotencyKey: `${turnId}:${callId}` } as AgentRunPayload);
        return { runId: run.runId };
      },
    };
  }
}
