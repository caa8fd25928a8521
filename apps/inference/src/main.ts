import 'reflect-metadata';
import { bootstrapService, loadConfigOrExit, serviceLogger } from '@troupe/bootstrap';
import { INFERENCE_CONTRACT } from '@troupe/contracts';
import { grpcServerOptions } from '@troupe/grpc';
import { AppModule } from './app.module';
import { InferenceConfig } from './inference.config';

const config = loadConfigOrExit('inference', InferenceConfig);
const logger = serviceLogger('inference', config);

bootstrapService({
  name: 'inference',
  config,
  logger,
  module: AppModule.register(config, logger),
  httpPort: config.INFERENCE_HTTP_PORT,
  grpc: grpcServerOptions(INFERENCE_CONTRACT, `${config.BIND_HOST}:${config.INFERENCE_GRPC_PORT}`, 16 * 1024 * 1024),
}).catch((e) => {
  logger.fatal({ err: e }, 'inference failed to start');
  process.exit(1);
});
