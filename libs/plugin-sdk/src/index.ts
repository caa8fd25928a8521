export * from './plugin-sdk';
