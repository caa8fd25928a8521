import { Module } from '@nestjs/common';
import { InferenceConfig, InferenceSecrets } from '../inference.config';
import { InferenceMetricsModule } from '../metrics/inference-metrics.module';
import { ModelRegistryService } from './model-registry.service';
import { ModelsAnnouncement } from './models-announcement';
import { ModelsHealthController } from './models-health.controller';

@Module({
  imports: [InferenceMetricsModule],
  controllers: [ModelsHealthController],
  providers: [ModelRegistryService, ModelsAnnouncement, { provide: InferenceSecrets, useFactory: (config: InferenceConfig) => InferenceSecrets.fromEnvironment(config), inject: [InferenceConfig] }],
  exports: [ModelRegistryService],
})
export class ModelsModule {}
