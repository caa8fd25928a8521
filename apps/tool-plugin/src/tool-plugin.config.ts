import { IsInt, Max, Min } from 'class-validator';
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
}
