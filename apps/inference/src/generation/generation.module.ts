import { Module } from '@nestjs/common';
import { InferenceMetricsModule } from '../metrics/inference-metrics.module';
import { ModelsModule } from '../models/models.module';
import { GenerationController } from './generation.controller';
import { GenerationService } from './generation.service';

@Module({
  imports: [ModelsModule, InferenceMetricsModule],
  controllers: [GenerationController],
  providers: [GenerationService],
})
export class GenerationModule {}
