import { Global, Module } from '@nestjs/common';
import { ToolPluginConfig } from '../tool-plugin.config';
import { ToolRegistry } from './tool-registry';

/** The one registry every tool source (built-ins, plugins, MCP servers) adds to. */
@Global()
@Module({
  providers: [
    {
      provide: ToolRegistry,
      inject: [ToolPluginConfig],
      useFactory: (config: ToolPluginConfig) => new ToolRegistry(config.TOOL_MAX_RESULT_BYTES, config.TOOL_DEFAULT_TIMEOUT_MS),
    },
  ],
  exports: [ToolRegistry],
})
export class RegistryModule {}
