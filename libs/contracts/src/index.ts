export * from './proto-paths';
export * as inference from './generated/troupe/inference/v1/inference';
export * as roleContext from './generated/troupe/role_context/v1/role_context';
export * as toolPlugin from './generated/troupe/tool_plugin/v1/tool_plugin';
export * from './token-delta';
