export * from './chat-protocol';
export * from './agent-jobs';
export * from './ids';
