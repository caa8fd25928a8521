/** MCP-style behaviour hints. */
export interface ToolHints {
  readOnly?: boolean;
  destructive?: boolean;
  idempotent?: boolean;
  openWorld?: boolean;
}

/** Who is calling: the role, its session and turn, the person it talks to. */
export interface CallContext {
  roleId: string;
  sessionId: string;
  turnId: string;
  userId: string;
}

/** A tool as the registry holds it: what models see, plus the code that runs it. */
export interface Tool<Args = Record<string, unknown>, Result = unknown> {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
  /** JSON Schema of the result, checked after each call when given. */
  result?: Record<string, unknown>;
  /** Wall-clock limit of one call; the registry's default when omitted. */
  timeoutMs?: number;
  requiresApproval?: boolean;
  hints?: ToolHints;
  /** "builtin", "plugin:<name>" or "mcp:<server>". */
  source?: string;
  run(args: Args, context: CallContext): Promise<Result> | Result;
}

export type ToolErrorCode =
  | 'UNKNOWN_TOOL'
  | 'INVALID_ARGUMENTS'
  | 'TOOL_FAILED'
  | 'RESULT_TOO_LARGE'
  | 'INVALID_RESULT'
  | 'TIMEOUT'
  | 'OUT_OF_MEMORY'
  | 'SANDBOX_CRASHED'
  | 'UNAVAILABLE'
  | 'APPROVAL_REQUIRED';

/** A failure the caller (and the model) should read: bad arguments, unknown tool, tool error. */
export class ToolCallError extends Error {
  constructor(
    readonly code: ToolErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ToolCallError';
  }
}
