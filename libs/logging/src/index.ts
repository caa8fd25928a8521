export * from './logger';
export * from './pino-nest.logger';
export * from './logging.module';
export type { Logger } from 'pino';
