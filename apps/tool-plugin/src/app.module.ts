import { DynamicModule, Module } from '@nestjs/common';
import { coreModules } from '@troupe/bootstrap';
import { DiscoveryModule } from '@troupe/discovery';
import { Logger } from '@troupe/logging';
import { ToolPluginConfig } from './tool-plugin.config';
import { PeersModule } from './peers/peers.module';
import { PluginsModule } from './plugins/plugins.module';
import { RegistryModule } from './tools/registry.module';
import { ToolsModule } from './tools/tools.module';

@Module({})
export class AppModule {
  static register(config: ToolPluginConfig, logger: Logger): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ...coreModules('tool-plugin', config, logger),
        DiscoveryModule.forRoot(config, { service: 'tool-plugin', grpcPort: config.TOOL_PLUGIN_GRPC_PORT }),
        RegistryModule, PeersModule,
        ToolsModule,
        PluginsModule,
      ],
    };
  }
}
