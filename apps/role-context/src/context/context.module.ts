import { Module } from '@nestjs/common';
import { HistoryModule } from '../history/history.module';
import { RolesModule } from '../roles/roles.module';
import { ContextService } from './context.service';

@Module({
  imports: [RolesModule, HistoryModule],
  providers: [ContextService],
  exports: [ContextService],
})
export class ContextModule {}
