import { Module } from '@nestjs/common';
import { ContextModule } from '../context/context.module';
import { HistoryModule } from '../history/history.module';
import { RolesModule } from '../roles/roles.module';
import { RoleContextController } from './role-context.controller';

/** The gRPC face of the service: translates requests into calls on roles, history and context. */
@Module({
  imports: [RolesModule, HistoryModule, ContextModule],
  controllers: [RoleContextController],
})
export class RoleContextApiModule {}
