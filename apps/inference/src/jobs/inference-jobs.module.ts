import { Module } from '@nestjs/common';
import { GenerationModule } from '../generation/generation.module';
import { InferenceJobsProcessor } from './inference-jobs.processor';

@Module({
  imports: [GenerationModule],
  providers: [InferenceJobsProcessor],
})
export class InferenceJobsModule {}
