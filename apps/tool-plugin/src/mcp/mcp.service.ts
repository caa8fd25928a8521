import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { HealthService } from '@troupe/health';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { ToolPluginConfig } from '../tool-plugin.config';
import { ToolRegistry } from '../tools/tool-registry';
import { McpServerConnection, parseMcpServers } from './mcp-server.connection';

/** The MCP servers of MCP_SERVERS, connected for the app's lifetime. */
@Injectable()
export class McpService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly connections: McpServerConnection[];
  private attempted = false;

  constructor(config: ToolPluginConfig, registry: ToolRegistry, health: HealthService, @Inject(APP_LOGGER) logger: Logger) {
    // Ready once every server was tried once (a server that is down does not hold readiness).
    health.register('mcp', async () => {
      if (!this.attempted) throw new Error('MCP servers not tried yet');
    });
    this.connections = parseMcpServers(config.MCP_SERVERS).map(
      (server) => new McpServerConnection(server, registry, config.TOOL_DEFAULT_TIMEOUT_MS, logger),
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.start()));
    this.attempted = true;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.connections.map((c) => c.stop()));
  }

  statuses() {
    return this.connections.map((c) => ({ state: c.state, error: c.error, tools: c.toolNames }));
  }
}
