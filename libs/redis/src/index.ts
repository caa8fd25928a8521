export * from './redis.module';
export { default as Redis } from 'ioredis';
export * from './redis-subscriber';
