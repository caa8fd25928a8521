import { DynamicModule, Module } from '@nestjs/common';
import { coreModules } from '@troupe/bootstrap';
import { DiscoveryModule } from '@troupe/discovery';
import { Logger } from '@troupe/logging';
import { AdminModule } from './admin/admin.module';
import { AgentsModule } from './agents/agents.module';
import { AuthModule } from './auth/auth.module';
import { ChatModule } from './chat/chat.module';
import { PeersModule } from './peers/peers.module';
import { EventsModule } from './events/events.module';
import { SessionConfig } from './session.config';
import { WebModule } from './web/web.module';

@Module({})
export class AppModule {
  static register(config: SessionConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [...coreModules('session', config, logger), DiscoveryModule.forRoot(config), PeersModule, AuthModule, EventsModule, ChatModule, WebModule, AgentsModule, AdminModule],
    };
  }
}
