import { TickGrid, TickHandle } from '@troupe/timing';

/** An event as published, before the log gives it a sequence number. */
export interface UnloggedEvent {
  type: string;
  payload: Record<string, unknown>;
}

/**
 * Where batches go: appended in order as consecutive sequence numbers of the session. It may
 * say how many listen to the session live (`listeners`: 0 when nobody does, anywhere).
 */
export interface BatchSink {
  appendBatch(sessionId: string, events: UnloggedEvent[]): Promise<{ listeners?: number } | void>;
}

interface SessionBatch {
  pending: UnloggedEvent[];
  inFlight: boolean;
  scheduled: boolean;
  /** Set while tokens wait for the stream interval to pass. */
  timer?: TickHandle;
  /** When tokens of this session last went out (0: never). */
  tokensSentAt: number;
  /** When the oldest token waiting arrived (0: none waits). */
  tokensWaitingSince: number;
  /** Events queued so far (a token merged into the one before it adds none). */
  queued: number;
  /** Events whose append has settled. */
  settled: number;
  /** Callers waiting until `settled` reaches their mark. */
  waiters: { until: number; resolve: () => void }[];
}

/** Event types whose consecutive events may be merged into one (see `mergeTokens`). */
const MERGEABLE = 'reply.token';
/** Sessions remembered as having nobody listening (the oldest are forgotten first). */
const MAX_UNHEARD_SESSIONS = 10_000;

/**
 * Appends a session's events to its log in order, one append in flight per session: what is
 * published meanwhile waits and goes out as one batch (one Redis round trip, one pub/sub
 * notice). Consecutive tokens of the same reply that wait together are merged into one
 * `reply.token` event carrying their text and `count`, so when tokens come faster than they
 * can be logged and delivered, the log and every client get fewer, larger events instead of a
 * growing queue. Tokens also go out at most once per `tokenIntervalMs` per session (a reply's
 * first token never waits, nor does any other event): every append and every delivery costs
 * far more than the characters it carries, so a busy service sends each reply a few tokens at
 * a time rather than one (the interval is read at each use: it may stretch under load, see
 * AdaptiveTokenInterval), on a grid every session shares (see `ticks`). With an interval of 0
 * nothing waits at low load: each event goes out as soon as it is published (a token within
 * the same tick, so tokens published together still share an append). While nobody listens to
 * a session live (its latest append reached no instance with a client of it), its tokens wait
 * longer (`unheardHoldMs`, a first one too) and mostly go out with the reply's end: a
 * background run logs a reply in two or three appends instead of five or more.
 */
export class EventBatcher {
  private readonly sessions = new Map<string, SessionBatch>();
  /**
   * Sessions whose latest append nobody heard live: their tokens wait `unheardHoldMs` (with a
   * hold of 0, none is ever noted here).
   */
  private readonly unheard = new Set<string>();
  private idleWaiters: (() => void)[] = [];
  private readonly tokenIntervalMs: () => number;
  /**
   * Waiting tokens of every session go out on one grid (the token interval): their appends
   * share a tick, so Redis gets them as one pipelined write instead of one write per session.
   */
  private readonly ticks: TickGrid;

  constructor(
    private readonly sink: BatchSink,
    private readonly maxBatch: number,
    private readonly onError: (e: unknown, sessionId: string, events: UnloggedEvent[]) => void,
    /** The token interval (ms), or where to read it each time (it may stretch under load). */
    tokenInterval: number | (() => number) = 0,
    /**
     * How long tokens wait, a first one too, while nobody listens to the session live (a
     * background run's, or one everybody left): they go with the next other event (a reply's
     * end) or after this long. Anyone who joins meanwhile is heard by the next append.
     */
    private readonly unheardHoldMs = 0,
  ) {
    this.tokenIntervalMs = typeof tokenInterval === 'number' ? () => tokenInterval : tokenInterval;
    this.ticks = new TickGrid(this.tokenIntervalMs);
  }

  /**
   * Queues an event; true when its append has gone out already (it is on the Redis connection
   * ahead of every command issued after this call), false when it waits.
   */
  publish(sessionId: string, type: string, payload: object): boolean {
    let batch = this.sessions.get(sessionId);
    if (!batch) {
      batch = { pending: [], inFlight: false, scheduled: false, tokensSentAt: 0, tokensWaitingSince: 0, queued: 0, settled: 0, waiters: [] };
      this.sessions.set(sessionId, batch);
    }
    const last = batch.pending[batch.pending.length - 1];
    let event = last;
    if (!(last && mergeTokens(last, type, payload as Record<string, unknown>))) {
      event = { type, payload: { ...payload } };
      batch.pending.push(event);
      batch.queued++;
    }
    if (type === MERGEABLE && batch.tokensWaitingSince === 0) batch.tokensWaitingSince = Date.now();
    const unheard = this.unheard.has(sessionId);
    if (type !== MERGEABLE || (!unheard && (payload as { index?: unknown }).index === 0)) {
      // Neither a reply's first token nor anything else waits for the interval, nor lets the
      // tokens before it wait.
      batch.tokensSentAt = 0;
      batch.timer?.cancel();
      batch.timer = undefined;
    }
    if (batch.inFlight) return false;
    // Anything but a token goes out now, behind whatever tokens wait, as before batching.
    if (type !== MERGEABLE) {
      this.flush(sessionId, batch);
      return !batch.pending.includes(event);
    }
    if (batch.scheduled || batch.timer) return false;
    batch.scheduled = true;
    const scheduled = batch;
    process.nextTick(() => {
      scheduled.scheduled = false;
      this.next(sessionId, scheduled);
    });
    return false;
  }

  /** Sessions with events waiting or being appended (for tests and shutdown). */
  busySessions(): number {
    return this.sessions.size;
  }

  /**
   * Resolves once the session's events published so far were appended (or failed): what the
   * caller does next (e.g. queue a turn another instance may run) comes after them in the log.
   */
  logged(sessionId: string): Promise<void> {
    const batch = this.sessions.get(sessionId);
    if (!batch) return Promise.resolve();
    const logged = new Promise<void>((resolve) => batch.waiters.push({ until: batch.queued, resolve }));
    // Someone waits for them: waiting tokens go now.
    batch.tokensSentAt = 0;
    batch.tokensWaitingSince = 0;
    if (batch.timer) {
      batch.timer.cancel();
      batch.timer = undefined;
      this.next(sessionId, batch);
    }
    return logged;
  }

  /** Resolves once every event published so far was appended (or failed): before Redis closes. */
  drained(): Promise<void> {
    if (this.sessions.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private flush(sessionId: string, batch: SessionBatch): void {
    const events = batch.pending.splice(0, this.maxBatch);
    batch.inFlight = true;
    if (!batch.pending.some((e) => e.type === MERGEABLE)) batch.tokensWaitingSince = 0;
    // The interval runs from tokens going out mid-reply (a reply's end or any other event resets it).
    batch.tokensSentAt = this.tokenIntervalMs() > 0 && events[events.length - 1].type === MERGEABLE ? Date.now() : 0;
    this.sink
      .appendBatch(sessionId, events)
      .then((heard) => this.noteListeners(sessionId, heard?.listeners))
      .catch((e: unknown) => this.onError(e, sessionId, events))
      .finally(() => {
        batch.inFlight = false;
        batch.settled += events.length;
        const due = batch.waiters.filter((w) => w.until <= batch.settled);
        if (due.length > 0) {
          batch.waiters = batch.waiters.filter((w) => w.until > batch.settled);
          due.forEach((w) => w.resolve());
        }
        this.next(sessionId, batch);
      });
  }

  /** Remembers whether anyone heard the session's latest append (unknown: as before). */
  private noteListeners(sessionId: string, listeners: number | undefined): void {
    if (listeners === undefined || this.unheardHoldMs === 0) return;
    if (listeners > 0) {
      this.unheard.delete(sessionId);
      return;
    }
    if (this.unheard.has(sessionId)) return;
    if (this.unheard.size >= MAX_UNHEARD_SESSIONS) this.unheard.delete(this.unheard.values().next().value!);
    this.unheard.add(sessionId);
  }

  /** Sends what waits, or forgets the session once nothing waits, is sent or is scheduled. */
  private next(sessionId: string, batch: SessionBatch, tickAt = 0): void {
    if (batch.inFlight || batch.scheduled || batch.timer) return;
    // On a grid tick it is at least the tick's time, whatever Date.now() reads.
    const now = Math.max(Date.now(), tickAt);
    const wait = this.unheard.has(sessionId)
      ? batch.tokensWaitingSince + this.unheardHoldMs - now
      : batch.tokensSentAt + this.tokenIntervalMs() - now;
    // Tokens wait out the interval (the session is kept meanwhile, so the next token knows it
    // must); anything else waiting takes them along at once.
    if (wait > 0 && batch.pending.every((e) => e.type === MERGEABLE)) {
      batch.timer = this.ticks.after(wait, (tickAt) => {
        batch.timer = undefined;
        if (batch.pending.length === 0) batch.tokensSentAt = 0;
        // Waited out: they go now, heard or not.
        batch.tokensWaitingSince = 0;
        this.next(sessionId, batch, tickAt);
      });
      return;
    }
    if (batch.pending.length > 0) {
      this.flush(sessionId, batch);
      return;
    }
    this.sessions.delete(sessionId);
    if (this.sessions.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((resolve) => resolve());
    }
  }
}

/**
 * Merges a token into the waiting token event before it when both belong to the same reply
 * and follow each other: `index` stays the first token's, `count` grows, texts join.
 */
function mergeTokens(last: UnloggedEvent, type: string, payload: Record<string, unknown>): boolean {
  if (type !== MERGEABLE || last.type !== MERGEABLE) return false;
  const into = last.payload;
  if (into.turnId !== payload.turnId || into.roleId !== payload.roleId || into.sessionId !== payload.sessionId) return false;
  const count = Number(into.count ?? 1);
  if (Number(into.index) + count !== Number(payload.index)) return false;
  into.text = String(into.text) + String(payload.text);
  into.count = count + Number(payload.count ?? 1);
  return true;
}
