import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import type { toolPlugin } from '@troupe/contracts';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { resolve } from 'node:path';
import { ToolAuditLog, ToolMetrics } from '../audit/tool-audit';
import { ToolAccess } from '../grants/tool-access';
import { MemoryBlockStore, RoleDirectory } from '../peers/peer-ports';
import { ToolPluginConfig } from '../tool-plugin.config';
import { calculatorTool } from './builtin/calculator.tool';
import { coordinationTools } from './builtin/coordination.tools';
import { datetimeTool } from './builtin/datetime.tool';
import { findToolsTool } from './builtin/find-tools.tool';
import { memoryBlockTools } from './builtin/memory-block.tools';
import { RoleDocuments, searchDocumentsTool } from './builtin/search-documents.tool';
import { ToolCalls } from './tool-calls';
import { ToolRegistry } from './tool-registry';

/** Registers the built-in tools and serves ListTools / InvokeTool through ToolCalls. */
@Injectable()
export class ToolsService implements OnModuleInit {
  private readonly calls: ToolCalls;

  constructor(
    private readonly config: ToolPluginConfig,
    private readonly registry: ToolRegistry,
    private readonly access: ToolAccess,
    private readonly roles: RoleDirectory,
    private readonly memory: MemoryBlockStore,
    audit: ToolAuditLog,
    metrics: ToolMetrics,
    @Inject(APP_LOGGER) logger: Logger,
  ) {
    this.calls = new ToolCalls(registry, access, audit, metrics, logger, config.TOOL_DEFAULT_TIMEOUT_MS);
  }

  onModuleInit(): void {
    for (const tool of [
      calculatorTool,
      datetimeTool,
      ...memoryBlockTools(this.memory),
      searchDocumentsTool(new RoleDocuments(resolve(this.config.DOCUMENTS_DIR))),
      ...coordinationTools(this.roles),
      findToolsTool(() => this.access),
    ]) {
      this.registry.register(tool);
    }
  }

  list(request: toolPlugin.ListToolsRequest): Promise<toolPlugin.ToolDefinition[]> {
    return this.calls.list(request.roleId, request.sessionId, request.turnId);
  }

  invoke(request: toolPlugin.InvokeToolRequest): Promise<toolPlugin.InvokeToolResponse> {
    return this.calls.invoke(request);
  }
}
