import 'reflect-metadata';
import { bootstrapService, loadConfigOrExit, serviceLogger } from '@troupe/bootstrap';
import { TOOL_PLUGIN_CONTRACT } from '@troupe/contracts';
import { grpcServerOptions } from '@troupe/grpc';
import { AppModule } from './app.module';
import { ToolPluginConfig } from './tool-plugin.config';

const config = loadConfigOrExit('tool-plugin', ToolPluginConfig);
const logger = serviceLogger('tool-plugin', config);

bootstrapService({
  name: 'tool-plugin',
  config,
  logger,
  module: AppModule.register(config, logger),
  httpPort: config.TOOL_PLUGIN_HTTP_PORT,
  grpc: grpcServerOptions(TOOL_PLUGIN_CONTRACT, `${config.BIND_HOST}:${config.TOOL_PLUGIN_GRPC_PORT}`, 4 * 1024 * 1024),
}).catch((e) => {
  logger.fatal({ err: e }, 'tool-plugin failed to start');
  process.exit(1);
});
