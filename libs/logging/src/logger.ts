import { AsyncLocalStorage } from 'node:async_hooks';
import pino, { Logger } from 'pino';

/** Fields (request id, turn id, session id) that every log line written inside a unit of work carries. */
export type LogContext = Record<string, string>;

const storage = new AsyncLocalStorage<LogContext>();

/** Runs fn with extra log fields merged into the current context. */
export function withLogContext<T>(fields: LogContext, fn: () => T): T {
  return storage.run({ ...(storage.getStore() ?? {}), ...fields }, fn);
}

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}

/** One structured JSON logger per process, tagged with the service name. */
export function createLogger(service: string, level: string): Logger {
  return pino({
    level,
    base: { service, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    mixin: () => storage.getStore() ?? {},
    formatters: { level: (label) => ({ level: label }) },
  });
}
