export * from './load-config';
export * from './base-service.config';
export * from './config.module';
