import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module';
import { DirectorService } from './director.service';
import { SessionBudget } from './session-budget';
import { TurnQueue } from './turn-queue';

@Module({
  imports: [ApprovalsModule],
  providers: [DirectorService, SessionBudget, TurnQueue],
  exports: [DirectorService],
})
export class DirectorModule {}
