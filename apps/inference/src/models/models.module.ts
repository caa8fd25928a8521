import { Module } from '@nestjs/common';
import { InferenceMetricsModule } from '../metrics/inference-metrics.module';
import { ModelRegistryService } from './model-registry.service';

@Module({
  imports: [InferenceMetricsModule],
  providers: [ModelRegistryService],
  exports: [ModelRegistryService],
})
export class ModelsModule {}
