import { Module } from '@nestjs/common';
import { REDIS } from '@troupe/redis';
import type Redis from 'ioredis';
import { RoleDirectory } from '../peers/peer-ports';
import { ToolPluginConfig } from '../tool-plugin.config';
import { ToolRegistry } from '../tools/tool-registry';
import { FoundToolsStore, RedisFoundToolsStore } from './found-tools.store';
import { ToolAccess } from './tool-access';

@Module({
  providers: [
    { provide: FoundToolsStore, inject: [REDIS], useFactory: (redis: Redis) => new RedisFoundToolsStore(redis) },
    {
      provide: ToolAccess,
      inject: [ToolRegistry, RoleDirectory, FoundToolsStore, ToolPluginConfig],
      useFactory: (registry: ToolRegistry, roles: RoleDirectory, found: FoundToolsStore, config: ToolPluginConfig) =>
        new ToolAccess(registry, roles, found, {
          findThreshold: config.TOOL_FIND_THRESHOLD,
          grantsCacheMs: config.ROLE_GRANTS_CACHE_MS,
          pinned: ['handoff', 'delegate'],
        }),
    },
  ],
  exports: [ToolAccess],
})
export class GrantsModule {}
