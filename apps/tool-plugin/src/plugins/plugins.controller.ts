import { Controller, Get } from '@nestjs/common';
import { McpService } from '../mcp/mcp.service';
import { PluginsService } from './plugins.service';

/** Operators' view of what is loaded and what failed (HTTP, beside /health). */
@Controller('plugins')
export class PluginsController {
  constructor(
    private readonly plugins: PluginsService,
    private readonly mcp: McpService,
  ) {}

  @Get()
  list() {
    return { plugins: this.plugins.statuses(), mcpServers: this.mcp.statuses() };
  }
}
