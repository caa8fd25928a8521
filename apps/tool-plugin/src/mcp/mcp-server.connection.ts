import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import Ajv from 'ajv';
import { ToolSink } from '../plugins/plugin-manager';
import { Tool, ToolCallError } from '../tools/tool';
import { describeSchemaErrors } from '../tools/tool-registry';

export interface McpServerConfig {
  name: string;
  command: string;
  args?: string[];
  env?: Record<string, string>;
  cwd?: string;
  /** Limit of one call unless the service default applies. */
  timeoutMs?: number;
}

const ajv = new Ajv({ allErrors: true, strict: false });
export const validateMcpServers = ajv.compile<McpServerConfig[]>({
  type: 'array',
  items: {
    type: 'object',
    properties: {
      name: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]{0,31}$' },
      command: { type: 'string', minLength: 1 },
      args: { type: 'array', items: { type: 'string' } },
      env: { type: 'object', additionalProperties: { type: 'string' } },
      cwd: { type: 'string' },
      timeoutMs: { type: 'integer', minimum: 1, maximum: 300000 },
    },
    required: ['name', 'command'],
    additionalProperties: false,
  },
});

/** Parses MCP_SERVERS; errors name the variable and the field. */
export function parseMcpServers(json: string): McpServerConfig[] {
  const value = JSON.parse(json) as unknown;
  if (!validateMcpServers(value)) throw new Error(`MCP_SERVERS: ${describeSchemaErrors(validateMcpServers.errors, '(servers)')}`);
  return value;
}

export interface McpLog {
  info(fields: object, message: string): void;
  warn(fields: object, message: string): void;
}

type McpContent = { type: string; text?: string }[];

/**
 * One MCP server over stdio (official SDK client): its tools go into the registry as
 * `<server>__<tool>` under the same grants, limits and audit as any tool; when the server
 * exits its tools are withdrawn and it is started again after a pause.
 */
export class McpServerConnection {
  private client?: Client;
  private transport?: StdioClientTransport;
  private tools: string[] = [];
  private stopped = false;
  private retry?: NodeJS.Timeout;
  state: 'starting' | 'ready' | 'failed' = 'starting';
  error?: string;

  constructor(
    private readonly config: McpServerConfig,
    private readonly sink: ToolSink,
    private readonly defaultTimeoutMs: number,
    private readonly log: McpLog,
    private readonly retryMs = 5_000,
  ) {}

  /** The server's process id while connected. */
  get pid(): number | null {
    return this.transport?.pid ?? null;
  }

  get toolNames(): string[] {
    return [...this.tools];
  }

  async start(): Promise<void> {
    try {
      await this.connect();
    } catch (e) {
      this.fail((e as Error).message);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retry);
    this.withdraw();
    await this.client?.close().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    this.state = 'starting';
    const transport = new StdioClientTransport({
      command: this.config.command,
      args: this.config.args ?? [],
      // Only PATH and what the config names: the server gets none of this service's secrets.
      env: { PATH: process.env.PATH ?? '', ...(this.config.env ?? {}) },
      cwd: this.config.cwd,
      stderr: 'pipe',
    });
    const client = new Client({ name: 'troupe-tool-plugin', version: '1.0.0' });
    client.onclose = () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.fail('server closed the connection');
    };
    await client.connect(transport);
    this.client = client;
    this.transport = transport;
    const { tools } = await client.listTools(undefined, { timeout: this.defaultTimeoutMs });
    const timeoutMs = this.config.timeoutMs ?? this.defaultTimeoutMs;
    const names: string[] = [];
    for (const t of tools) {
      const name = `${this.config.name}__${t.name}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 64);
      if (this.sink.get(name)) {
        this.log.warn({ mcpServer: this.config.name, tool: name }, 'MCP tool skipped: the name is taken');
        continue;
      }
      const { $schema: _drop, ...parameters } = t.inputSchema as Record<string, unknown>;
      const tool: Tool = {
        name,
        description: t.description ?? t.title ?? t.name,
        parameters,
        timeoutMs,
        hints: {
          readOnly: t.annotations?.readOnlyHint,
          destructive: t.annotations?.destructiveHint,
          idempotent: t.annotations?.idempotentHint,
          openWorld: t.annotations?.openWorldHint,
        },
        source: `mcp:${this.config.name}`,
        run: (args) => this.call(t.name, args, timeoutMs),
      };
      try {
        this.sink.register(tool);
        names.push(name);
      } catch (e) {
        this.log.warn({ mcpServer: this.config.name, tool: name, error: (e as Error).message }, 'MCP tool skipped: bad schema');
      }
    }
    this.tools = names;
    this.state = 'ready';
    this.error = undefined;
    this.log.info({ mcpServer: this.config.name, tools: names }, 'MCP server connected');
  }

  private async call(tool: string, args: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    const client = this.client;
    if (!client) throw new ToolCallError('UNAVAILABLE', `MCP server ${this.config.name} is not connected`);
    let result;
    try {
      result = await client.callTool({ name: tool, arguments: args }, undefined, { timeout: timeoutMs });
    } catch (e) {
      const message = (e as Error).message;
      if (/timed out|timeout/i.test(message)) throw new ToolCallError('TIMEOUT', `tool ${tool} did not finish within ${timeoutMs} ms`);
      throw new ToolCallError('TOOL_FAILED', message);
    }
    const content = (result.content ?? []) as McpContent;
    const text = content.filter((c) => c.type === 'text').map((c) => c.text).join('\n');
    if (result.isError) throw new ToolCallError('TOOL_FAILED', text || 'the MCP tool reported an error');
    return result.structuredContent ?? { text, content };
  }

  private fail(reason: string): void {
    this.withdraw();
    this.state = 'failed';
    this.error = reason;
    if (this.stopped) return;
    this.log.warn({ mcpServer: this.config.name, reason, retryMs: this.retryMs }, 'MCP server unavailable');
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.start(), this.retryMs);
    this.retry.unref();
  }

  private withdraw(): void {
    for (const name of this.tools) this.sink.unregister(name);
    this.tools = [];
  }
}
