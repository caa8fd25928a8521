import { Module } from '@nestjs/common';
import { CachesModule } from '../caches/caches.module';
import { ContextModule } from '../context/context.module';
import { HistoryModule } from '../history/history.module';
import { MemoryModule } from '../memory/memory.module';
import { RecallModule } from '../recall/recall.module';
import { RolesModule } from '../roles/roles.module';
import { RoleContextController } from './role-context.controller';

/** The gRPC face of the service: translates requests into calls on roles, history, context and memory. */
@Module({
  imports: [CachesModule, RolesModule, HistoryModule, ContextModule, MemoryModule, RecallModule],
  controllers: [RoleContextController],
})
export class RoleContextApiModule {}
