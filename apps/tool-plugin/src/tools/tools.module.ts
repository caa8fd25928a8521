import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { GrantsModule } from '../grants/grants.module';
import { ToolsController } from './tools.controller';
import { ToolsService } from './tools.service';

@Module({
  imports: [GrantsModule, AuditModule],
  controllers: [ToolsController],
  providers: [ToolsService],
})
export class ToolsModule {}
