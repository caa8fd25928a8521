import { AgentRunPayload, AgentRunResult, RoleSummary, SessionPolicy } from '@troupe/domain';
import { Director, DirectorPorts, Turn, TurnOutcome } from '../director/director';
import { DEFAULT_SESSION_POLICY } from '../director/session-policy';

/** A `delegate` tool call the director made during a run: a child run to start. */
export interface Delegation {
  runId: string;
  role: string;
  task: string;
}

export interface AgentRunnerPorts {
  /** The role's summary (id, name, pinned version); throws for an unknown role. */
  getRole(roleId: string): Promise<RoleSummary>;
  /** Opens `sessionId` as the run's own session, for runs that do not belong to one. */
  openSession(role: RoleSummary, runId: string, sessionId: string): Promise<void>;
  director: DirectorPorts;
}

export interface AgentRunInput {
  runId: string;
  payload: AgentRunPayload;
  /** The run's session: the payload's, the one an earlier attempt chose, or a new one of its own. */
  sessionId: string;
  /** `sessionId` is new, the run's own: open it. */
  openSession?: boolean;
  /** Results of delegated runs, when this is the run's second step. */
  childResults?: Record<string, AgentRunResult>;
  /** The role's lookup, when the caller started it already (see lookUpRole). */
  role?: Promise<RoleSummary>;
}

export interface AgentRunOutput {
  outcome: TurnOutcome;
  result: AgentRunResult;
  delegations: Delegation[];
}

/**
 * Runs one background job with the same Director the chat uses (turn policy, tool loop,
 * limits), with no socket: the turn's events go to the session's log. A `delegate` tool
 * result becomes a child run (with an id derived from the parent's, so a re-run does not
 * start it twice).
 */
export class AgentRunner {
  constructor(private readonly ports: AgentRunnerPorts) {}

  /**
   * Starts looking up a role (a gRPC call) for a later `run`, so the caller can overlap it with
   * its own Redis work; a failure surfaces when `run` awaits it.
   */
  lookUpRole(roleId: string): Promise<RoleSummary> {
    const lookup = this.ports.getRole(roleId);
    lookup.catch(() => undefined);
    return lookup;
  }

  async run(input: AgentRunInput, signal: AbortSignal): Promise<AgentRunOutput> {
    const { runId, payload } = input;
    const role = await (input.role ?? this.ports.getRole(payload.role));
    // A session of its own is opened while the turn goes on: its Redis write goes out ahead of
    // the turn's on the same connection, and nothing in the turn reads the session's record. A
    // round trip off the way to the reply; a failure still fails the run, once the turn is over.
    const sessionId = input.sessionId;
    const sessionReady = input.openSession ? this.ports.openSession(role, runId, sessionId) : undefined;
    sessionReady?.catch(() => undefined);
    const delegations: Delegation[] = [];
    const director = new Director({ ...this.ports.director, invokeTool: (request, s) => this.invokeTool(request, s, runId, delegations) });
    const policy: SessionPolicy = { ...DEFAULT_SESSION_POLICY, turnPolicy: 'single', tokenBudget: payload.tokenBudget ?? DEFAULT_SESSION_POLICY.tokenBudget };
    const step = input.childResults ? 'after-children' : 'first';
    const turn: Turn = {
      sessionId,
      turnId: `${runId}.${step}`,
      author: 'agent-runner',
      authorId: `agent:${payload.parentRunId || runId}`,
      text: taskText(payload, input.childResults),
      roles: [role],
      policy,
    };
    const outcome = await director.run(turn, signal);
    await sessionReady;
    const replies = outcome.replies.map((r) => ({ roleId: r.roleId, text: r.text }));
    const result: AgentRunResult = {
      runId,
      sessionId,
      reason: outcome.reason,
      detail: outcome.detail,
      text: replies.map((r) => r.text).join('\n'),
      replies,
      usage: outcome.usage,
      children: input.childResults ?? {},
    };
    return { outcome, result, delegations };
  }

  private async invokeTool(request: Parameters<DirectorPorts['invokeTool']>[0], signal: AbortSignal, runId: string, delegations: Delegation[]) {
    const response = await this.ports.director.invokeTool(request, signal);
    if (!response.ok || request.tool !== 'delegate') return response;
    const directive = JSON.parse(response.resultJson || 'null') as { directive?: string; role?: string; task?: string } | null;
    if (directive?.directive !== 'delegate' || !directive.role || !directive.task) return response;
    const child: Delegation = { runId: `${runId}.c${delegations.length}`, role: directive.role, task: directive.task };
    delegations.push(child);
    return {
      ...response,
      resultJson: JSON.stringify({ ...directive, runId: child.runId, instruction: 'queued: its result comes back to you once it has finished' }),
    };
  }
}

/** What the role is told: the task, its inputs, and (second step) what its delegates answered. */
export function taskText(payload: AgentRunPayload, childResults?: Record<string, AgentRunResult>): string {
  const lines = [`Task: ${payload.task}`];
  const inputs = Object.entries(payload.inputs ?? {});
  if (inputs.length) lines.push('Inputs:', ...inputs.map(([k, v]) => `- ${k}: ${String(v)}`));
  if (childResults) {
    lines.push('Results of the runs you delegated:');
    for (const [id, r] of Object.entries(childResults)) lines.push(`- ${id} (${r.replies[0]?.roleId ?? 'role'}): ${r.text}`);
    lines.push('Finish the task with these results.');
  }
  return lines.join('\n');
}
