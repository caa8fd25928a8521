import { Module } from '@nestjs/common';
import { McpModule } from '../mcp/mcp.module';
import { PluginsController } from './plugins.controller';
import { PluginsService } from './plugins.service';

/** Sandboxed plugins from the watched folder, and the operators' view of every tool source. */
@Module({
  imports: [McpModule],
  controllers: [PluginsController],
  providers: [PluginsService],
})
export class PluginsModule {}
