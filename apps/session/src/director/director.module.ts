import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module';
import { DirectorPortsFactory } from './director-ports.factory';
import { DirectorService } from './director.service';
import { SessionBudget } from './session-budget';
import { TurnQueue } from './turn-queue';

@Module({
  imports: [ApprovalsModule],
  providers: [DirectorService, DirectorPortsFactory, SessionBudget, TurnQueue],
  exports: [DirectorService, DirectorPortsFactory],
})
export class DirectorModule {}
