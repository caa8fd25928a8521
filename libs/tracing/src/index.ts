export * from './tracing-settings';
export * from './tracer-provider';
export * from './trace-context';
export * from './spans';
export * from './job-spans';
