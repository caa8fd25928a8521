import { Module } from '@nestjs/common';
import { McpService } from '../mcp/mcp.service';
import { PluginsController } from './plugins.controller';
import { PluginsService } from './plugins.service';

/** Tool sources outside the service: sandboxed plugin folders and MCP servers. */
@Module({
  controllers: [PluginsController],
  providers: [PluginsService, McpService],
})
export class PluginsModule {}
