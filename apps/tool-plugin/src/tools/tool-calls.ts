import type { toolPlugin } from '@troupe/contracts';
import { ToolAccess } from '../grants/tool-access';
import { CallOutcome, ToolAuditLog, ToolCallRecord, ToolMetrics, argsDigest } from '../audit/tool-audit';
import { CallContext, ToolCallError } from './tool';
import { ToolRegistry } from './tool-registry';
import { toToolDefinition } from './tool-view';

export interface CallLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

/**
 * ListTools and InvokeTool as plain logic: grants first (a refused call throws, the
 * controller answers PERMISSION_DENIED), then approval, validation, the run within limits,
 * and an audit entry and metrics for every call whatever its outcome.
 */
export class ToolCalls {
  constructor(
    private readonly registry: ToolRegistry,
    private readonly access: ToolAccess,
    private readonly audit: ToolAuditLog,
    private readonly metrics: ToolMetrics | undefined,
    private readonly log: CallLog,
    private readonly defaultTimeoutMs: number,
  ) {}

  async list(roleId: string, sessionId: string, turnId: string): Promise<toolPlugin.ToolDefinition[]> {
    const tools = await this.access.visible(roleId, sessionId, turnId);
    return tools.map((t) => toToolDefinition(t, this.defaultTimeoutMs));
  }

  async invoke(call: toolPlugin.InvokeToolRequest): Promise<toolPlugin.InvokeToolResponse> {
    const started = performance.now();
    const context: CallContext = { roleId: call.roleId, sessionId: call.sessionId, turnId: call.turnId, userId: call.userId };
    const finish = (outcome: CallOutcome, error: string) => {
      const durationMs = performance.now() - started;
      this.record({
        callId: call.callId,
        roleId: call.roleId,
        sessionId: call.sessionId,
        turnId: call.turnId,
        tool: call.tool,
        argsDigest: argsDigest(call.argumentsJson),
        durationMs: Math.round(durationMs * 1000) / 1000,
        outcome,
        error,
      });
      return Math.round(durationMs);
    };
    const tool = this.registry.get(call.tool);
    if (tool) {
      try {
        await this.access.check(context, call.tool);
      } catch (e) {
        finish('denied', (e as Error).message);
        throw e;
      }
    }
    try {
      if (!tool) throw new ToolCallError('UNKNOWN_TOOL', `unknown tool "${call.tool}"`);
      if (tool.requiresApproval && !call.approved) {
        throw new ToolCallError('APPROVAL_REQUIRED', `tool ${call.tool} needs a person's approval; call again with approved=true once given`);
      }
      const result = await this.registry.invoke(call.tool, call.argumentsJson, context);
      const durationMs = finish('ok', '');
      return { callId: call.callId, ok: true, resultJson: JSON.stringify(result ?? null), error: '', durationMs };
    } catch (e) {
      const error = e instanceof ToolCallError ? `${e.code}: ${e.message}` : `TOOL_FAILED: ${(e as Error).message}`;
      const durationMs = finish(e instanceof ToolCallError && e.code === 'TIMEOUT' ? 'timeout' : 'error', error);
      return { callId: call.callId, ok: false, resultJson: '', error, durationMs };
    }
  }

  /** Audit and metrics never hold the answer up; a failed audit write is logged. */
  private record(entry: ToolCallRecord): void {
    this.metrics?.observe(entry.tool, entry.outcome, entry.durationMs / 1000);
    this.log.info({ tool: entry.tool, callId: entry.callId, ms: entry.durationMs, outcome: entry.outcome, error: entry.error || undefined }, 'tool call');
    this.audit.record(entry).catch((e) => this.log.warn({ err: e, tool: entry.tool }, 'tool call audit write failed'));
  }
}
