/**
 * Tool calls from local models, in the documented text format (docs/chat-protocol.md):
 *
 *   <tool_call>{"name": "calculator", "arguments": {"expression": "2 + 2"}}</tool_call>
 *
 * The first well-formed call in a reply counts; anything malformed is reported so the
 * director can tell the model what was wrong.
 */
export interface ParsedToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export type ToolCallParse = { kind: 'none' } | { kind: 'call'; call: ParsedToolCall } | { kind: 'malformed'; problem: string };

const TOOL_CALL = /<tool_call>([\s\S]*?)<\/tool_call>/;

export function parseToolCall(text: string): ToolCallParse {
  const match = TOOL_CALL.exec(text);
  if (!match) return { kind: 'none' };
  let value: unknown;
  try {
    value = JSON.parse(match[1]);
  } catch (e) {
    return { kind: 'malformed', problem: `tool call is not JSON: ${(e as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { kind: 'malformed', problem: 'tool call must be a JSON object' };
  const { name, arguments: args } = value as { name?: unknown; arguments?: unknown };
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]{1,128}$/.test(name)) return { kind: 'malformed', problem: 'tool call needs a "name" string' };
  if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
    return { kind: 'malformed', problem: '"arguments" must be a JSON object' };
  }
  return { kind: 'call', call: { name, arguments: (args ?? {}) as Record<string, unknown> } };
}
