import { Inject, Injectable } from '@nestjs/common';
import { ServerToClientEvents, SessionEventPayload } from '@troupe/domain';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { RedisSubscriber } from '@troupe/redis';
import { SessionConfig } from '../session.config';
import { EventBatcher } from './event-batcher';
import { DeliveryTarget, EventDelivery } from './event-delivery';
import { LoggedEvent, SessionEventLog } from './session-event-log';

/** Bounds one append's Lua run (Redis runs nothing else meanwhile) and its pub/sub notice. */
const MAX_EVENTS_PER_APPEND = 256;

/**
 * Publishing into a session's event log, and delivering the log to this instance's clients.
 * The director only publishes; the gateway attaches and detaches sockets.
 */
@Injectable()
export class SessionEventsService {
  private readonly delivery: EventDelivery;
  private readonly batcher: EventBatcher;
  private readonly listeners = new Map<string, (message: string) => void>();

  constructor(
    private readonly log: SessionEventLog,
    private readonly subscriber: RedisSubscriber,
    config: SessionConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.delivery = new EventDelivery(
      {
        range: (sessionId, after, upTo, count) => this.log.range(sessionId, after, upTo, count),
        subscribe: (sessionId, onEvent) => this.subscribe(sessionId, onEvent),
        unsubscribe: (sessionId) => this.unsubscribe(sessionId),
      },
      config.MAX_PENDING_PACKETS,
      config.SLOW_CLIENT_TIMEOUT_MS,
      (e) => this.logger.error({ err: e }, 'event delivery failed'),
    );
    this.batcher = new EventBatcher(
      log,
      MAX_EVENTS_PER_APPEND,
      (e, sessionId, events) => this.logger.error({ err: e, sessionId, events: events.map((event) => event.type) }, 'events not logged'),
      config.TOKEN_STREAM_INTERVAL_MS,
    );
  }

  /**
   * Appends to the log (and so to every client of the session, on every instance), in the
   * order published; tokens that wait behind an append in flight are merged (EventBatcher).
   */
  publish<E extends keyof ServerToClientEvents>(sessionId: string, event: E, payload: SessionEventPayload<E>): void {
    this.batcher.publish(sessionId, event, payload);
  }

  /** Resolves once the session's events published so far are in the log. */
  logged(sessionId: string): Promise<void> {
    return this.batcher.logged(sessionId);
  }

  /** Resolves once everything published so far is in the log (shutdown waits for it before Redis closes). */
  drained(): Promise<void> {
    return this.batcher.drained();
  }

  lastSeq(sessionId: string): Promise<number> {
    return this.log.lastSeq(sessionId);
  }

  attach(target: DeliveryTarget, sessionId: string, fromSeq: number): Promise<void> {
    return this.delivery.attach(target, sessionId, fromSeq);
  }

  detach(targetId: string): void {
    this.delivery.detach(targetId);
  }

  isMember(targetId: string, sessionId: string): boolean {
    return this.delivery.isMember(targetId, sessionId);
  }

  private async subscribe(sessionId: string, onEvent: (event: LoggedEvent) => void): Promise<void> {
    // A notice carries one append's batch of events, in order.
    const listener = (message: string) => {
      for (const event of JSON.parse(message) as LoggedEvent[]) onEvent(event);
    };
    this.listeners.set(sessionId, listener);
    await this.subscriber.subscribe(this.log.channel(sessionId), listener);
  }

  private async unsubscribe(sessionId: string): Promise<void> {
    const listener = this.listeners.get(sessionId);
    if (!listener) return;
    this.listeners.delete(sessionId);
    await this.subscriber.unsubscribe(this.log.channel(sessionId), listener);
  }
}
