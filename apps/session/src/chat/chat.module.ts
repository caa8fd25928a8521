import { Module } from '@nestjs/common';
import { ApprovalsModule } from '../approvals/approvals.module';
import { DirectorModule } from '../director/director.module';
import { SessionsModule } from '../sessions/sessions.module';
import { ChatGateway } from './chat.gateway';

@Module({
  imports: [SessionsModule, DirectorModule, ApprovalsModule],
  providers: [ChatGateway],
})
export class ChatModule {}
