import { Inject, Injectable, OnModuleDestroy } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { ServerToClientEvents, SessionEventPayload } from '@troupe/domain';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { MetricsService } from '@troupe/metrics';
import { RedisSubscriber } from '@troupe/redis';
import { SessionConfig } from '../session.config';
import { AdaptiveTokenInterval, DEFAULT_ADAPTIVE_POLICY } from './adaptive-token-interval';
import { EventBatcher, UnloggedEvent } from './event-batcher';
import { DeliveryTarget, EventDelivery } from './event-delivery';
import { LoggedEvent, SessionEventLog } from './session-event-log';

/** Bounds one append's Lua run (Redis runs nothing else meanwhile) and its pub/sub notice. */
const MAX_EVENTS_PER_APPEND = 256;
/** How often the event loop's utilization is read to adapt the token interval. */
const LOAD_WINDOW_MS = 100;

/**
 * Publishing into a session's event log, and delivering the log to this instance's clients.
 * The director only publishes; the gateway attaches and detaches sockets.
 */
@Injectable()
export class SessionEventsService implements OnModuleDestroy {
  private readonly delivery: EventDelivery;
  private readonly batcher: EventBatcher;
  private readonly listeners = new Map<string, (message: string) => void>();
  private readonly tokenInterval: AdaptiveTokenInterval;
  private readonly loadSampler?: NodeJS.Timeout;
  /** Heads this instance's notices: it delivers its own appends at once and skips their echo. */
  private readonly origin = `${randomUUID()}:`;

  constructor(
    private readonly log: SessionEventLog,
    private readonly subscriber: RedisSubscriber,
    config: SessionConfig,
    metrics: MetricsService,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.tokenInterval = new AdaptiveTokenInterval({ ...DEFAULT_ADAPTIVE_POLICY, baseMs: config.TOKEN_STREAM_INTERVAL_MS, maxMs: config.TOKEN_STREAM_INTERVAL_MAX_MS });
    if (this.tokenInterval.adaptive) {
      let last = performance.eventLoopUtilization();
      this.loadSampler = setInterval(() => {
        const now = performance.eventLoopUtilization();
        this.tokenInterval.observe(performance.eventLoopUtilization(now, last).utilization);
        last = now;
      }, LOAD_WINDOW_MS);
      this.loadSampler.unref();
    }
    metrics.gauge('troupe_token_stream_interval_ms', 'The token stream interval in use (stretches while the process is busy)', () => this.tokenInterval.ms);
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
      { appendBatch: (sessionId, events) => this.append(sessionId, events) },
      MAX_EVENTS_PER_APPEND,
      (e, sessionId, events) => this.logger.error({ err: e, sessionId, events: events.map((event) => event.type) }, 'events not logged'),
      () => this.tokenInterval.ms,
      Math.max(config.TOKEN_STREAM_INTERVAL_MS, config.TOKEN_STREAM_INTERVAL_MAX_MS),
    );
  }

  onModuleDestroy(): void {
    clearInterval(this.loadSampler);
  }

  /**
   * Appends to the log (and so to every client of the session, on every instance), in the
   * order published; tokens that wait behind an append in flight are merged (EventBatcher).
   * True when the append went out at once: anything this instance sends Redis from now on
   * (on the same connection) comes after it.
   */
  publish<E extends keyof ServerToClientEvents>(sessionId: string, event: E, payload: SessionEventPayload<E>): boolean {
    return this.batcher.publish(sessionId, event, payload);
  }

  /** How often a reply's tokens go out now (it stretches while this instance is busy). */
  get tokenIntervalMs(): number {
    return this.tokenInterval.ms;
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

  /**
   * Appends a batch and hands it to this instance's clients of the session as soon as the log
   * has numbered it, without waiting for its pub/sub notice: a round trip off every event's
   * way, the first token's included. Other instances get the notice.
   */
  private async append(sessionId: string, events: UnloggedEvent[]): Promise<{ listeners: number }> {
    const { last, receivers } = await this.log.appendBatch(sessionId, events, this.origin);
    if (this.delivery.hasMembers(sessionId)) {
      const first = last - events.length + 1;
      events.forEach((event, i) => this.delivery.deliverLive(sessionId, { seq: first + i, type: event.type, payload: event.payload }));
    }
    return { listeners: receivers };
  }

  private async subscribe(sessionId: string, onEvent: (event: LoggedEvent) => void): Promise<void> {
    // A notice carries one append's batch of events, in order; this instance's own went out already.
    const listener = (message: string) => {
      if (message.startsWith(this.origin)) return;
      for (const event of SessionEventLog.parseNotice(message).events) onEvent(event);
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
