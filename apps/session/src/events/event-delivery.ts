import { LoggedEvent } from './session-event-log';

/** What delivery needs of a connected client; the gateway adapts a Socket.IO socket to it. */
export interface DeliveryTarget {
  readonly id: string;
  emit(event: string, payload: object): void;
  /** Packets written but not yet handed to the transport. */
  pendingPackets(): number;
  /** Resolves true once the pending packets were handed on, false if not within the time. */
  waitForDrain(timeoutMs: number): Promise<boolean>;
  /** Drops the connection; the client may reconnect and resume from its last sequence number. */
  dropAsSlow(reason: string): void;
}

/** What delivery needs of the event log and the instance's pub/sub connection. */
export interface DeliverySource {
  range(sessionId: string, after: number, upTo?: number, count?: number): Promise<LoggedEvent[]>;
  subscribe(sessionId: string, onEvent: (event: LoggedEvent) => void): Promise<void>;
  unsubscribe(sessionId: string): Promise<void>;
}

interface Membership {
  target: DeliveryTarget;
  sessionId: string;
  /** Highest sequence number this client has been sent. */
  cursor: number;
  /** Deliveries to one client run one after another, so order holds even while a gap is filled. */
  queue: Promise<void>;
  /** Over its backlog bound: live events are skipped and read back from the log once it drains. */
  lagging: boolean;
  /** Steps queued and not finished; with none, an in-order live event is sent at once. */
  pending: number;
}

const REPLAY_PAGE = 500;

/**
 * Delivers a session's events to the clients connected to this instance, each exactly once
 * and in sequence order: live events come straight from this instance's own appends and over
 * pub/sub from the others'; anything a client has not seen (it reconnected, a notice was
 * missed, or another instance's event was overtaken by one of ours) is read back from the
 * event log first.
 *
 * Slow clients: at most `maxPendingPackets` events wait in memory for one client. Past that
 * the client is marked lagging and gets nothing more until its backlog drains; then it is
 * caught up from the log (the log, not memory, holds what it has not read). A client that
 * does not drain within `slowClientTimeoutMs` is disconnected; it loses nothing, since it
 * can reconnect and resume from its last sequence number.
 */
export class EventDelivery {
  private readonly members = new Map<string, Map<string, Membership>>();

  constructor(
    private readonly source: DeliverySource,
    private readonly maxPendingPackets: number,
    private readonly slowClientTimeoutMs: number,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Starts delivering events after `fromSeq` to the target, replaying what it missed first. */
  async attach(target: DeliveryTarget, sessionId: string, fromSeq: number): Promise<void> {
    let sessionMembers = this.members.get(sessionId);
    const first = !sessionMembers;
    if (!sessionMembers) {
      sessionMembers = new Map();
      this.members.set(sessionId, sessionMembers);
    }
    if (sessionMembers.has(target.id)) return;
    const membership: Membership = { target, sessionId, cursor: fromSeq, queue: Promise.resolve(), lagging: false, pending: 0 };
    sessionMembers.set(target.id, membership);
    if (first) await this.source.subscribe(sessionId, (event) => this.deliverLive(sessionId, event));
    // Subscribed before reading the log: whatever is appended from now on is either in the
    // replay or arrives live, and the cursor drops the overlap.
    this.enqueue(membership, () => this.catchUp(membership));
    await membership.queue;
  }

  detach(targetId: string): void {
    for (const [sessionId, sessionMembers] of this.members) {
      if (sessionMembers.delete(targetId) && sessionMembers.size === 0) {
        this.members.delete(sessionId);
        this.source.unsubscribe(sessionId).catch(this.onError);
      }
    }
  }

  isMember(targetId: string, sessionId: string): boolean {
    return this.members.get(sessionId)?.has(targetId) ?? false;
  }

  hasMembers(sessionId: string): boolean {
    return this.members.has(sessionId);
  }

  /**
   * A logged event, live: to every client of the session here that is up to date, at once;
   * one behind gets what it missed from the log first; one ahead skips it.
   */
  deliverLive(sessionId: string, event: LoggedEvent): void {
    for (const membership of this.members.get(sessionId)?.values() ?? []) {
      if (membership.lagging) continue;
      // Fast path (almost every token): nothing queued for this client and the event is next.
      if (membership.pending === 0 && event.seq === membership.cursor + 1) {
        this.send(membership, event);
        continue;
      }
      this.enqueue(membership, async () => {
        if (membership.lagging || event.seq <= membership.cursor) return;
        if (event.seq > membership.cursor + 1) await this.catchUp(membership, event.seq - 1);
        this.send(membership, event);
      });
    }
  }

  private async catchUp(membership: Membership, upTo?: number): Promise<void> {
    for (;;) {
      const events = await this.source.range(membership.sessionId, membership.cursor, upTo, REPLAY_PAGE);
      if (events.length === 0) return;
      if (events[0].seq > membership.cursor + 1) {
        membership.target.emit('chat.error', {
          code: 'RESUME_GAP',
          message: `events ${membership.cursor + 1}..${events[0].seq - 1} are no longer kept`,
          field: 'lastSeq',
          event: 'session.join',
        });
      }
      for (const event of events) if (!this.send(membership, event)) return;
      if (events.length < REPLAY_PAGE) return;
    }
  }

  /** Sends one event; false when the client is over its bound (it is then caught up later). */
  private send(membership: Membership, event: LoggedEvent): boolean {
    if (membership.lagging) return false;
    if (event.seq <= membership.cursor) return true;
    if (membership.target.pendingPackets() >= this.maxPendingPackets) {
      membership.lagging = true;
      void this.resumeWhenDrained(membership);
      return false;
    }
    membership.target.emit(event.type, { ...event.payload, seq: event.seq });
    membership.cursor = event.seq;
    return true;
  }

  private async resumeWhenDrained(membership: Membership): Promise<void> {
    const drained = await membership.target.waitForDrain(this.slowClientTimeoutMs);
    if (!this.isMember(membership.target.id, membership.sessionId)) return;
    if (!drained) {
      this.detach(membership.target.id);
      membership.target.dropAsSlow(`${this.maxPendingPackets} events waited more than ${this.slowClientTimeoutMs} ms to be sent`);
      return;
    }
    membership.lagging = false;
    this.enqueue(membership, () => this.catchUp(membership));
  }

  private enqueue(membership: Membership, step: () => Promise<void>): void {
    membership.pending++;
    membership.queue = membership.queue
      .then(step)
      .catch(this.onError)
      .finally(() => {
        membership.pending--;
      });
  }
}
