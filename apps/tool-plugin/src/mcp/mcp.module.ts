import { Module } from '@nestjs/common';
import { McpService } from './mcp.service';

/** Tools of MCP servers over stdio (MCP_SERVERS). */
@Module({
  providers: [McpService],
  exports: [McpService],
})
export class McpModule {}
