import { DynamicModule, Module } from '@nestjs/common';
import { coreModules } from '@troupe/bootstrap';
import { DiscoveryModule } from '@troupe/discovery';
import { Logger } from '@troupe/logging';
import { GenerationModule } from './generation/generation.module';
import { InferenceConfig } from './inference.config';
import { InferenceJobsModule } from './jobs/inference-jobs.module';

@Module({})
export class AppModule {
  static register(config: InferenceConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...coreModules('inference', config, logger),
        DiscoveryModule.forRoot(config, { service: 'inference', grpcPort: config.INFERENCE_GRPC_PORT }),
        GenerationModule,
        InferenceJobsModule,
      ],
    };
  }
}
