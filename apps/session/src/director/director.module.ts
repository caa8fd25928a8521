import { Module } from '@nestjs/common';
import { DirectorService } from './director.service';
import { SessionBudget } from './session-budget';

@Module({
  providers: [DirectorService, SessionBudget],
  exports: [DirectorService],
})
export class DirectorModule {}
