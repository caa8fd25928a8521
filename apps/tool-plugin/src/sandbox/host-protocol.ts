/** Messages between the service and a plugin host child process (over the IPC channel). */

export interface LoadMessage {
  type: 'load';
  plugin: string;
  /** Plugin files, path relative to the plugin folder → source text (.js and .json only). */
  files: Record<string, string>;
  main: string;
  memoryMb: number;
  /** Only the environment variables the manifest grants. */
  env: Record<string, string>;
  maxResultBytes: number;
  /** Source of `@troupe/plugin-sdk` as the isolate sees it. */
  sdkSource: string;
}

export interface InvokeMessage {
  type: 'invoke';
  id: number;
  tool: string;
  argsJson: string;
  timeoutMs: number;
  context: { roleId: string; sessionId: string };
}

export type ParentMessage = LoadMessage | InvokeMessage;

export type HostErrorCode = 'TOOL_FAILED' | 'TIMEOUT' | 'OUT_OF_MEMORY' | 'RESULT_TOO_LARGE' | 'UNKNOWN_TOOL';

export type CallOutcome = { ok: true; resultJson: string } | { ok: false; code: HostErrorCode; error: string };

export type HostMessage =
  | { type: 'loaded'; tools: unknown[] }
  | { type: 'load-failed'; error: string }
  | ({ type: 'result'; id: number } & CallOutcome)
  | { type: 'log'; tool: string; message: string };
