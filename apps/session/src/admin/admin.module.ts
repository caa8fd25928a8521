import { Module } from '@nestjs/common';
import { AgentsModule } from '../agents/agents.module';
import { DirectorModule } from '../director/director.module';
import { SessionEventLog } from '../events/session-event-log';
import { SessionsModule } from '../sessions/sessions.module';
import { AdminAuthGuard } from './admin-auth.guard';
import { AgentRunsController } from './agent-runs.controller';
import { AuditLog } from './audit-log';
import { AuditController, CacheStatsController, ModelsController, SessionsAdminController, ToolsController } from './operations.controller';
import { QueuesController } from './queues.controller';
import { RolesAdminService } from './roles-admin.service';
import { RolesController } from './roles.controller';
import { SessionsAdminService } from './sessions-admin.service';

/** The REST admin API under /admin: thin controllers over the services of the other modules. */
@Module({
  imports: [AgentsModule, SessionsModule, DirectorModule],
  controllers: [AgentRunsController, QueuesController, RolesController, ToolsController, ModelsController, CacheStatsController, AuditController, SessionsAdminController],
  providers: [AdminAuthGuard, AuditLog, RolesAdminService, SessionsAdminService, SessionEventLog],
  exports: [AdminAuthGuard],
})
export class AdminModule {}
