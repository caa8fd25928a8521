import { Get } from '@nestjs/common';
import { AgentRunsService } from '../agents/agent-runs.service';
import { AdminController } from './admin-controller.decorator';
import { RequireRole } from './admin-roles';

/** Job counts per state, as JSON (the Bull Board UI is at /admin/queues; dead letters under agent-runs). */
@AdminController('queues', 'queues')
export class QueuesController {
  constructor(private readonly runs: AgentRunsService) {}

  @Get('counts')
  @RequireRole('viewer')
  counts() {
    return this.runs.counts();
  }
}
