import Ajv, { ValidateFunction } from 'ajv';
import { Tool, ToolCallError } from './tool';

interface RegisteredTool {
  tool: Tool;
  validate: ValidateFunction;
}

/** Holds the tools, validates arguments against each tool's JSON Schema, runs calls. */
export class ToolRegistry {
  private readonly ajv = new Ajv({ allErrors: true, strict: true });
  private readonly tools = new Map<string, RegisteredTool>();

  constructor(private readonly maxResultBytes: number) {}

  register(tool: Tool<any, any>): void {
    this.tools.set(tool.name, { tool, validate: this.ajv.compile(tool.parameters) });
  }

  list(): Tool[] {
    return [...this.tools.values()].map((t) => t.tool).sort((a, b) => a.name.localeCompare(b.name));
  }

  async invoke(name: string, argumentsJson: string): Promise<unknown> {
    const entry = this.tools.get(name);
    if (!entry) throw new ToolCallError('UNKNOWN_TOOL', `unknown tool "${name}"`);
    let args: unknown;
    try {
      args = argumentsJson.trim() === '' ? {} : JSON.parse(argumentsJson);
    } catch (e) {
      throw new ToolCallError('INVALID_ARGUMENTS', `arguments are not valid JSON: ${(e as Error).message}`);
    }
    if (!entry.validate(args)) {
      const details = (entry.validate.errors ?? [])
        .map((err) => {
          const field = err.instancePath ? err.instancePath.slice(1).replace(/\//g, '.') : (err.params as { missingProperty?: string }).missingProperty ?? '(arguments)';
          return `${field}: ${err.message}`;
        })
        .join('; ');
      throw new ToolCallError('INVALID_ARGUMENTS', details);
    }
    let result: unknown;
    try {
      result = await entry.tool.run(args as Record<string, unknown>);
    } catch (e) {
      throw new ToolCallError('TOOL_FAILED', (e as Error).message);
    }
    const size = Buffer.byteLength(JSON.stringify(result ?? null));
    if (size > this.maxResultBytes) {
      throw new ToolCallError('RESULT_TOO_LARGE', `result is ${size} bytes, limit ${this.maxResultBytes}`);
    }
    return result;
  }
}
