import { Module } from '@nestjs/common';
import { MetricsService } from '@troupe/metrics';
import { REDIS } from '@troupe/redis';
import type Redis from 'ioredis';
import { ToolPluginConfig } from '../tool-plugin.config';
import { RedisToolAuditLog, ToolAuditLog, ToolMetrics } from './tool-audit';

@Module({
  providers: [
    {
      provide: ToolAuditLog,
      inject: [REDIS, ToolPluginConfig],
      useFactory: (redis: Redis, config: ToolPluginConfig) => new RedisToolAuditLog(redis, config.TOOL_AUDIT_MAXLEN),
    },
    { provide: ToolMetrics, inject: [MetricsService], useFactory: (metrics: MetricsService) => new ToolMetrics(metrics) },
  ],
  exports: [ToolAuditLog, ToolMetrics],
})
export class AuditModule {}
