import { Module } from '@nestjs/common';
import { CachesModule } from '../caches/caches.module';
import { EmbeddingClient } from './embedding.client';
import { FactRepository } from './fact.repository';
import { RecallService } from './recall.service';

/** Recall memory: facts with embeddings from the inference service, keyword search without it. */
@Module({
  imports: [CachesModule],
  providers: [EmbeddingClient, FactRepository, RecallService],
  exports: [RecallService],
})
export class RecallModule {}
