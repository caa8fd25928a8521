import { IsInt, IsJSON, IsNotEmpty, IsString, Max, Min } from 'class-validator';
import { BaseServiceConfig } from '@troupe/config';

export class ToolPluginConfig extends BaseServiceConfig {
  @IsInt()
  @Min(1)
  @Max(65535)
  TOOL_PLUGIN_HTTP_PORT = 3002;

  @IsInt()
  @Min(1)
  @Max(65535)
  TOOL_PLUGIN_GRPC_PORT = 50052;

  /** Largest tool result returned, in bytes of JSON. */
  @IsInt()
  @Min(64)
  @Max(16 * 1024 * 1024)
  TOOL_MAX_RESULT_BYTES = 64 * 1024;

  /** Wall-clock limit of a call when the tool declares none. */
  @IsInt()
  @Min(1)
  @Max(300_000)
  TOOL_DEFAULT_TIMEOUT_MS = 5_000;

  /** Role-context, for roles' tool grants and memory blocks. */
  @IsString()
  @IsNotEmpty()
  ROLE_CONTEXT_ADDRESS = '127.0.0.1:50051';

  @IsInt()
  @Min(100)
  @Max(120_000)
  GRPC_DEADLINE_MS = 5_000;

  /** How long a role's grants are reused before asking role-context again. */
  @IsInt()
  @Min(0)
  @Max(600_000)
  ROLE_GRANTS_CACHE_MS = 2_000;

  /** Past this many granted tools a role sees find_tools instead of the whole list. */
  @IsInt()
  @Min(1)
  @Max(10_000)
  TOOL_FIND_THRESHOLD = 16;

  /** Folder of plugins, one sub-folder each (plugin.json + code); watched for changes. */
  @IsString()
  @IsNotEmpty()
  PLUGINS_DIR = 'plugins';

  /** Fallback rescan of PLUGINS_DIR (fs.watch triggers earlier scans). */
  @IsInt()
  @Min(100)
  @Max(600_000)
  PLUGIN_SCAN_INTERVAL_MS = 2_000;

  /** Heap limit of each plugin's isolate unless its manifest sets one. */
  @IsInt()
  @Min(8)
  @Max(1024)
  PLUGIN_MEMORY_MB = 64;

  /** V8 heap of each plugin host process (--max-old-space-size). */
  @IsInt()
  @Min(32)
  @Max(4096)
  PLUGIN_HOST_HEAP_MB = 128;

  @IsInt()
  @Min(0)
  @Max(1000)
  PLUGIN_MAX_RESTARTS_PER_MINUTE = 10;

  /** JSON object NAME → value: the only variables a plugin's permissions.env can grant. */
  @IsJSON()
  PLUGIN_SECRETS = '{}';

  /** Folder with one sub-folder of documents (.md, .txt) per role id, for search_documents. */
  @IsString()
  @IsNotEmpty()
  DOCUMENTS_DIR = 'documents';

  /** Tool-call audit stream: entries kept (approximately, MAXLEN ~). */
  @IsInt()
  @Min(100)
  @Max(100_000_000)
  TOOL_AUDIT_MAXLEN = 100_000;

  /**
   * MCP servers over stdio, JSON: [{"name":"files","command":"node","args":["server.js"],"env":{}}].
   * Their tools are named <name>__<tool>.
   */
  @IsJSON()
  MCP_SERVERS = '[]';
}
