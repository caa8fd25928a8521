export * from './redis.module';
export { default as Redis } from 'ioredis';
export * from './redis-subscriber';
export * from './hash-writes';
