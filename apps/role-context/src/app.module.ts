import { DynamicModule, Module } from '@nestjs/common';
import { coreModules, grpcServerProviders } from '@troupe/bootstrap';
import { Logger } from '@troupe/logging';
import { RoleContextApiModule } from './role-context-api/role-context-api.module';
import { RoleContextConfig } from './role-context.config';

@Module({})
export class AppModule {
  static register(config: RoleContextConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [...coreModules('role-context', config, logger), RoleContextApiModule],
      providers: [...grpcServerProviders],
    };
  }
}
