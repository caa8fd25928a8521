import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module';
import { DirectorService } from './director.service';
import { SessionBudget } from './session-budget';

@Module({
  imports: [ApprovalsModule],
  providers: [DirectorService, SessionBudget],
  exports: [DirectorService],
})
export class DirectorModule {}
