import { Inject, Injectable } from '@nestjs/common';
import { toolPlugin } from '@troupe/contracts';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { ToolPluginConfig } from '../tool-plugin.config';
import { calculatorTool } from './builtin/calculator.tool';
import { ToolCallError } from './tool';
import { ToolRegistry } from './tool-registry';

@Injectable()
export class ToolsService {
  private readonly registry: ToolRegistry;

  constructor(config: ToolPluginConfig, @Inject(APP_LOGGER) private readonly logger: Logger) {
    this.registry = new ToolRegistry(config.TOOL_MAX_RESULT_BYTES);
    this.registry.register(calculatorTool);
  }

  /** Every tool for now; per-role grants come with the plugin system. */
  list(_roleId: string): toolPlugin.ToolDefinition[] {
    return this.registry.list().map((t) => ({
      name: t.name,
      description: t.description,
      parametersSchemaJson: JSON.stringify(t.parameters),
    }));
  }

  async invoke(call: toolPlugin.InvokeToolRequest): Promise<toolPlugin.InvokeToolResponse> {
    const started = Date.now();
    try {
      const result = await this.registry.invoke(call.tool, call.argumentsJson);
      this.logger.info({ tool: call.tool, callId: call.callId, ms: Date.now() - started }, 'tool call ok');
      return { callId: call.callId, ok: true, resultJson: JSON.stringify(result), error: '' };
    } catch (e) {
      const error = e instanceof ToolCallError ? `${e.code}: ${e.message}` : `TOOL_FAILED: ${(e as Error).message}`;
      this.logger.info({ tool: call.tool, callId: call.callId, error }, 'tool call failed');
      return { callId: call.callId, ok: false, resultJson: '', error };
    }
  }
}
