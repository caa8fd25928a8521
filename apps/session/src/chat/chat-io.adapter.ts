import { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { createAdapter } from '@socket.io/redis-streams-adapter';
import type { Redis } from '@troupe/redis';
import type { Server, ServerOptions } from 'socket.io';

/**
 * Socket.IO server settings from config. The transport's hard cap sits well above the
 * per-event limit so an oversized event reaches the gateway and gets a PAYLOAD_TOO_LARGE
 * answer instead of a dropped connection. The Redis Streams adapter makes Socket.IO's own
 * rooms span every `session` instance (session events travel through the event log instead).
 */
export class ChatIoAdapter extends IoAdapter {
  constructor(
    app: INestApplicationContext,
    private readonly settings: { maxEventBytes: number; corsOrigin: string; redis: Redis },
  ) {
    super(app);
  }

  override createIOServer(port: number, options?: ServerOptions): unknown {
    const server = super.createIOServer(port, {
      ...options,
      maxHttpBufferSize: this.settings.maxEventBytes * 8 + 64 * 1024,
      cors: { origin: this.settings.corsOrigin === '*' ? true : this.settings.corsOrigin },
    } as ServerOptions) as Server;
    // The stream key carries the deployment's key prefix (the client applies it).
    server.adapter(createAdapter(this.settings.redis, { streamName: 'socket.io', maxLen: 10_000 }));
    return server;
  }
}
