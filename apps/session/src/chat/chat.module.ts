import { Module } from '@nestjs/common';
import { DirectorModule } from '../director/director.module';
import { SessionsModule } from '../sessions/sessions.module';
import { ChatGateway } from './chat.gateway';

@Module({
  imports: [SessionsModule, DirectorModule],
  providers: [ChatGateway],
})
export class ChatModule {}
