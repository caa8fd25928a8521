/**
 * The plugin SDK: what a plugin author imports to declare tools. A tool is one typed function
 * plus its JSON Schemas; the service validates arguments before the function runs and the
 * result after. Plugin code runs inside an isolated-vm isolate in a child process, where
 * `require('@troupe/plugin-sdk')` resolves to these same functions (see SDK_RUNTIME_SOURCE).
 */

/** A JSON Schema object (draft-07 / 2019 subset that ajv compiles in strict mode). */
export type JsonSchema = Record<string, unknown>;

/** MCP-style behaviour hints shown in ListTools. */
export interface ToolHints {
  readOnly?: boolean;
  destructive?: boolean;
  idempotent?: boolean;
  openWorld?: boolean;
}

/** What a tool function sees besides its arguments. */
export interface ToolContext {
  /** Only the environment variables the plugin's manifest grants (permissions.env). */
  readonly env: Readonly<Record<string, string>>;
  readonly roleId: string;
  readonly sessionId: string;
  /** Writes one line to the service log, tagged with the plugin and tool. */
  log(message: string): void;
}

export interface ToolDeclaration<Args = Record<string, unknown>, Result = unknown> {
  /** Function name the model calls: letters, digits, "_" and "-", at most 64. */
  name: string;
  description: string;
  /** JSON Schema of the arguments object. */
  parameters: JsonSchema;
  /** JSON Schema of the result; checked after every call when given. */
  result?: JsonSchema;
  /** Wall-clock limit of one call; the manifest's limit applies when omitted. */
  timeoutMs?: number;
  /** A person must approve each call before it runs. */
  requiresApproval?: boolean;
  hints?: ToolHints;
  run(args: Args, context: ToolContext): Result | Promise<Result>;
}

export interface PluginDefinition {
  tools: ToolDeclaration<any, any>[];
}

/** Declares one tool; the generic parameters type the function's arguments and result. */
export function defineTool<Args = Record<string, unknown>, Result = unknown>(tool: ToolDeclaration<Args, Result>): ToolDeclaration<Args, Result> {
  return tool;
}

/** The plugin's export: `module.exports = definePlugin({ tools: [...] })`. */
export function definePlugin(plugin: PluginDefinition): PluginDefinition {
  return plugin;
}

/** The manifest, `plugin.json`, beside the code. */
export interface PluginManifest {
  name: string;
  version: string;
  description?: string;
  /** Entry file, relative to the plugin folder (CommonJS). Default "index.js". */
  main?: string;
  permissions?: {
    /** Names of environment variables (from the service's PLUGIN_SECRETS) the tools may read. */
    env?: string[];
  };
  limits?: {
    /** Heap of the isolate running the tools, in MB. */
    memoryMb?: number;
    /** Default wall-clock limit of one call, in ms. */
    timeoutMs?: number;
  };
}

/** JSON Schema of plugin.json, used by the service to validate manifests (errors name the field). */
export const PLUGIN_MANIFEST_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' },
    version: { type: 'string', minLength: 1, maxLength: 64 },
    description: { type: 'string', maxLength: 2000 },
    main: { type: 'string', pattern: '^[A-Za-z0-9_./-]+\\.js$' },
    permissions: {
      type: 'object',
      properties: { env: { type: 'array', items: { type: 'string', pattern: '^[A-Z][A-Z0-9_]*$' }, maxItems: 64 } },
      additionalProperties: false,
    },
    limits: {
      type: 'object',
      properties: {
        memoryMb: { type: 'integer', minimum: 8, maximum: 1024 },
        timeoutMs: { type: 'integer', minimum: 1, maximum: 300000 },
      },
      additionalProperties: false,
    },
  },
  required: ['name', 'version'],
  additionalProperties: false,
};

/** JSON Schema of one tool declaration as the sandbox reports it (the function stays inside). */
export const TOOL_DECLARATION_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    name: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,64}$' },
    description: { type: 'string', minLength: 1, maxLength: 4000 },
    parameters: { type: 'object' },
    result: { type: 'object' },
    timeoutMs: { type: 'integer', minimum: 1, maximum: 300000 },
    requiresApproval: { type: 'boolean' },
    hints: {
      type: 'object',
      properties: {
        readOnly: { type: 'boolean' },
        destructive: { type: 'boolean' },
        idempotent: { type: 'boolean' },
        openWorld: { type: 'boolean' },
      },
      additionalProperties: false,
    },
  },
  required: ['name', 'description', 'parameters'],
  additionalProperties: false,
};

/** The SDK as the isolate sees it (no imports there): the same two identity functions. */
export const SDK_RUNTIME_SOURCE = 'exports.defineTool = (t) => t; exports.definePlugin = (p) => p;';
