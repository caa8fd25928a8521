import { Module } from '@nestjs/common';
import { EmbeddingsModule } from '../embeddings/embeddings.module';
import { InferenceMetricsModule } from '../metrics/inference-metrics.module';
import { ModelsModule } from '../models/models.module';
import { GenerationController } from './generation.controller';
import { GenerationService } from './generation.service';

@Module({
  imports: [ModelsModule, InferenceMetricsModule, EmbeddingsModule],
  controllers: [GenerationController],
  providers: [GenerationService],
  exports: [GenerationService],
})
export class GenerationModule {}
