import { Module } from '@nestjs/common';
import { ModelsModule } from '../models/models.module';
import { EmbeddingService } from './embedding.service';

@Module({
  imports: [ModelsModule],
  providers: [EmbeddingService],
  exports: [EmbeddingService],
})
export class EmbeddingsModule {}
