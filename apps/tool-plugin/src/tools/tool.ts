/** A tool as the registry holds it: what models see, plus the code that runs it. */
export interface Tool<Args = Record<string, unknown>, Result = unknown> {
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: Record<string, unknown>;
  run(args: Args): Promise<Result> | Result;
}

/** A failure the caller (and the model) should read: bad arguments, unknown tool, tool error. */
export class ToolCallError extends Error {
  constructor(
    readonly code: 'UNKNOWN_TOOL' | 'INVALID_ARGUMENTS' | 'TOOL_FAILED' | 'RESULT_TOO_LARGE',
    message: string,
  ) {
    super(message);
    this.name = 'ToolCallError';
  }
}
