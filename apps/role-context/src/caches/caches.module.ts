import { Module } from '@nestjs/common';
import { CacheRegistry } from './cache-registry';
import { InvalidationBus } from './invalidation-bus';

/** Role-specific cache classes and their cross-instance invalidation. */
@Module({
  providers: [InvalidationBus, CacheRegistry],
  exports: [InvalidationBus, CacheRegistry],
})
export class CachesModule {}
