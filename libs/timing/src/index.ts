export * from './tick-grid';
