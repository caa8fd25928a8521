import 'reflect-metadata';
import { bootstrapService, loadConfigOrExit, serviceLogger } from '@troupe/bootstrap';
import { REDIS } from '@troupe/redis';
import { setupOpenApi } from './admin/openapi';
import { setupQueueBoard } from './admin/queue-board';
import { AppModule } from './app.module';
import { ChatIoAdapter } from './chat/chat-io.adapter';
import { SessionConfig } from './session.config';

const config = loadConfigOrExit('session', SessionConfig);
const logger = serviceLogger('session', config);

bootstrapService({
  name: 'session',
  config,
  logger,
  module: AppModule.register(config, logger),
  httpPort: config.SESSION_HTTP_PORT,
  configure: (app) => {
    app.useWebSocketAdapter(
      new ChatIoAdapter(app, { maxEventBytes: config.MAX_EVENT_BYTES, corsOrigin: config.CHAT_CORS_ORIGIN, redis: app.get(REDIS) }),
    );
    app.enableCors({ origin: config.CHAT_CORS_ORIGIN === '*' ? true : config.CHAT_CORS_ORIGIN });
    setupOpenApi(app);
    setupQueueBoard(app);
  },
}).catch((e) => {
  logger.fatal({ err: e }, 'session failed to start');
  process.exit(1);
});
