import { DynamicModule, Module } from '@nestjs/common';
import { coreModules } from '@troupe/bootstrap';
import { DiscoveryModule } from '@troupe/discovery';
import { Logger } from '@troupe/logging';
import { RoleContextApiModule } from './role-context-api/role-context-api.module';
import { RoleContextConfig } from './role-context.config';

@Module({})
export class AppModule {
  static register(config: RoleContextConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...coreModules('role-context', config, logger),
        DiscoveryModule.forRoot(config, { service: 'role-context', grpcPort: config.ROLE_CONTEXT_GRPC_PORT }),
        RoleContextApiModule,
      ],
    };
  }
}
