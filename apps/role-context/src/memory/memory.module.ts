import { Module } from '@nestjs/common';
import { CachesModule } from '../caches/caches.module';
import { MemoryBlockRepository } from './memory-block.repository';
import { MemoryService } from './memory.service';

/** Memory blocks: per role, per (role, person), and shared between roles. */
@Module({
  imports: [CachesModule],
  providers: [MemoryBlockRepository, MemoryService],
  exports: [MemoryService],
})
export class MemoryModule {}
