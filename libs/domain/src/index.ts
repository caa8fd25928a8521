export * from './chat-protocol';
export * from './agent-jobs';
