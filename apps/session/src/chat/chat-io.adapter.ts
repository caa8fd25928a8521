import { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { ServerOptions } from 'socket.io';

/**
 * Socket.IO server settings from config. The transport's hard cap sits well above the
 * per-event limit so an oversized event reaches the gateway and gets a PAYLOAD_TOO_LARGE
 * answer instead of a dropped connection.
 */
export class ChatIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly settings: { maxEventBytes: number; corsOrigin: string },
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): unknown {
    return super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: this.settings.maxEventBytes * 8 + 64 * 1024,
      cors: { origin: this.settings.corsOrigin === '*' ? true : this.settings.corsOrigin },
    } as ServerOptions);
  }
}
