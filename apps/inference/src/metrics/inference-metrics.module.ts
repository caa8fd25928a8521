import { Module } from '@nestjs/common';
import { InferenceMetrics } from './inference.metrics';

@Module({
  providers: [InferenceMetrics],
  exports: [InferenceMetrics],
})
export class InferenceMetricsModule {}
