import type { toolPlugin } from '@troupe/contracts';
import { Tool } from './tool';

/** A tool in the function-calling form models expect (what find_tools returns). */
export function toolSchemaView(tool: Tool) {
  return { name: tool.name, description: tool.description, parameters: tool.parameters };
}

/** A tool as ListTools answers it. */
export function toToolDefinition(tool: Tool, defaultTimeoutMs: number): toolPlugin.ToolDefinition {
  return {
    name: tool.name,
    description: tool.description,
    parametersSchemaJson: JSON.stringify(tool.parameters),
    resultSchemaJson: tool.result ? JSON.stringify(tool.result) : '',
    requiresApproval: tool.requiresApproval ?? false,
    annotations: {
      readOnlyHint: tool.hints?.readOnly ?? false,
      destructiveHint: tool.hints?.destructive ?? false,
      idempotentHint: tool.hints?.idempotent ?? false,
      openWorldHint: tool.hints?.openWorld ?? false,
    },
    timeoutMs: tool.timeoutMs ?? defaultTimeoutMs,
    source: tool.source ?? 'builtin',
  };
}
