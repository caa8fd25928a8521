import { Module } from '@nestjs/common';
import { CachesModule } from '../caches/caches.module';
import { HistoryModule } from '../history/history.module';
import { MemoryModule } from '../memory/memory.module';
import { RecallModule } from '../recall/recall.module';
import { RolesModule } from '../roles/roles.module';
import { TokensModule } from '../tokens/tokens.module';
import { ContextService } from './context.service';
import { RolePinsRepository } from './role-pins.repository';

@Module({
  imports: [CachesModule, RolesModule, HistoryModule, MemoryModule, RecallModule, TokensModule],
  providers: [ContextService, RolePinsRepository],
  exports: [ContextService],
})
export class ContextModule {}
