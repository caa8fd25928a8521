export * from './bootstrap-service';
export * from './core-modules';
