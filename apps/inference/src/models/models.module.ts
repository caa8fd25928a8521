import { Module } from '@nestjs/common';
import { InferenceMetricsModule } from '../metrics/inference-metrics.module';
import { ModelRegistryService } from './model-registry.service';
import { ModelsHealthController } from './models-health.controller';

@Module({
  imports: [InferenceMetricsModule],
  controllers: [ModelsHealthController],
  providers: [ModelRegistryService],
  exports: [ModelRegistryService],
})
export class ModelsModule {}
