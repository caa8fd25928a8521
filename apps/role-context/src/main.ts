import 'reflect-metadata';
import { bootstrapService, loadConfigOrExit, serviceLogger } from '@troupe/bootstrap';
import { ROLE_CONTEXT_CONTRACT } from '@troupe/contracts';
import { grpcServerOptions } from '@troupe/grpc';
import { AppModule } from './app.module';
import { RoleContextConfig } from './role-context.config';

const config = loadConfigOrExit('role-context', RoleContextConfig);
const logger = serviceLogger('role-context', config);

bootstrapService({
  name: 'role-context',
  config,
  logger,
  module: AppModule.register(config, logger),
  httpPort: config.ROLE_CONTEXT_HTTP_PORT,
  grpc: grpcServerOptions(ROLE_CONTEXT_CONTRACT, `${config.BIND_HOST}:${config.ROLE_CONTEXT_GRPC_PORT}`, 8 * 1024 * 1024),
}).catch((e) => {
  logger.fatal({ err: e }, 'role-context failed to start');
  process.exit(1);
});
