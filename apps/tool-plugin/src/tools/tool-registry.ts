import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import { CallContext, Tool, ToolCallError } from './tool';

interface RegisteredTool {
  tool: Tool;
  validate: ValidateFunction;
  validateResult?: ValidateFunction;
}

export const EMPTY_CONTEXT: CallContext = { roleId: '', sessionId: '', turnId: '', userId: '' };

/** "field: problem; …" from ajv errors, so the model can see which argument to fix. */
export function describeSchemaErrors(errors: ErrorObject[] | null | undefined, root = '(arguments)'): string {
  return (errors ?? [])
    .map((err) => {
      const missing = (err.params as { missingProperty?: string }).missingProperty;
      const extra = (err.params as { additionalProperty?: string }).additionalProperty;
      const base = err.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : '';
      const field = missing ?? extra ? [base, missing ?? extra].filter(Boolean).join('.') : base || root;
      return `${field}: ${err.message}`;
    })
    .join('; ');
}

/** Holds the tools, validates arguments (and results) against each tool's JSON Schema, runs calls. */
export class ToolRegistry {
  private readonly ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
  private readonly tools = new Map<string, RegisteredTool>();

  constructor(
    private readonly maxResultBytes: number,
    private readonly defaultTimeoutMs = 5000,
  ) {}

  /** Compiles the schemas first, so a tool with a broken schema is refused whole. */
  register(tool: Tool<any, any>): void {
    const validate = this.ajv.compile(tool.parameters);
    const validateResult = tool.result ? this.ajv.compile(tool.result) : undefined;
    this.tools.set(tool.name, { tool, validate, validateResult });
  }

  unregister(name: string): void {
    this.tools.delete(name);
  }

  has(name: string): boolean {
    return this.tools.has(name);
  }

  get(name: string): Tool | undefined {
    return this.tools.get(name)?.tool;
  }

  list(): Tool[] {
    return [...this.tools.values()].map((t) => t.tool).sort((a, b) => a.name.localeCompare(b.name));
  }

  timeoutOf(tool: Tool): number {
    return tool.timeoutMs ?? this.defaultTimeoutMs;
  }

  async invoke(name: string, argumentsJson: string, context: CallContext = EMPTY_CONTEXT): Promise<unknown> {
    const entry = this.tools.get(name);
    if (!entry) throw new ToolCallError('UNKNOWN_TOOL', `unknown tool "${name}"`);
    let args: unknown;
    try {
      args = argumentsJson.trim() === '' ? {} : JSON.parse(argumentsJson);
    } catch (e) {
      throw new ToolCallError('INVALID_ARGUMENTS', `arguments are not valid JSON: ${(e as Error).message}`);
    }
    if (!entry.validate(args)) throw new ToolCallError('INVALID_ARGUMENTS', describeSchemaErrors(entry.validate.errors));
    const result = await this.run(entry.tool, args as Record<string, unknown>, context);
    const size = Buffer.byteLength(JSON.stringify(result ?? null));
    if (size > this.maxResultBytes) {
      throw new ToolCallError('RESULT_TOO_LARGE', `result is ${size} bytes, limit ${this.maxResultBytes}`);
    }
    if (entry.validateResult && !entry.validateResult(result)) {
      throw new ToolCallError('INVALID_RESULT', `tool ${name} returned ${describeSchemaErrors(entry.validateResult.errors, '(result)')}`);
    }
    return result;
  }

  /** Runs with the tool's wall-clock limit; sandboxed tools enforce it themselves as well. */
  private async run(tool: Tool, args: Record<string, unknown>, context: CallContext): Promise<unknown> {
    const timeoutMs = this.timeoutOf(tool);
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ToolCallError('TIMEOUT', `tool ${tool.name} did not finish within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      return await Promise.race([Promise.resolve().then(() => tool.run(args, context)), timeout]);
    } catch (e) {
      if (e instanceof ToolCallError) throw e;
      throw new ToolCallError('TOOL_FAILED', (e as Error)?.message ?? String(e));
    } finally {
      clearTimeout(timer);
    }
  }
}
