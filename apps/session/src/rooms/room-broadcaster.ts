import { Injectable } from '@nestjs/common';
import { ServerToClientEvents } from '@troupe/domain';
import type { Server } from 'socket.io';

export const sessionRoom = (sessionId: string) => `session:${sessionId}`;

/**
 * Sends server events to everyone in a session's room. The gateway attaches the Socket.IO
 * server; the director only knows this class, so it runs (and is tested) without sockets.
 */
@Injectable()
export class RoomBroadcaster {
  private server?: Server;

  attach(server: Server): void {
    this.server = server;
  }

  emit<E extends keyof ServerToClientEvents>(sessionId: string, event: E, payload: Parameters<ServerToClientEvents[E]>[0]): void {
    (this.server?.to(sessionRoom(sessionId)).emit as (e: string, p: unknown) => void)?.(event, payload);
  }
}
