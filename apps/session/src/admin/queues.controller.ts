import { Get } from '@nestjs/common';
import { AgentRunsService } from '../agents/agent-runs.service';
import { AdminController } from './admin-controller.decorator';
import { RequireRole } from './admin-roles';

/** The queue overview (job counts per state); failed jobs and their retry live under agent-runs/dead-letters. */
@AdminController('queues', 'queues')
export class QueuesController {
  constructor(private readonly runs: AgentRunsService) {}

  @Get()
  @RequireRole('viewer')
  counts() {
    return this.runs.counts();
  }
}
