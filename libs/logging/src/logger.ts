import { AsyncLocalStorage } from 'node:async_hooks';
import { activeTraceIds } from '@troupe/tracing';
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
    // The active span's ids (trace_id, span_id) join the fields when tracing is on.
    mixin: () => {
      const fields = storage.getStore();
      const ids = activeTraceIds();
      return ids ? { ...fields, ...ids } : (fields ?? {});
    },
    formatters: { level: (label) => ({ level: label }) },
  });
}
