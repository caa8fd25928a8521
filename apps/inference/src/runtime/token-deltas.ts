import type { DoneEvent, GenerationEvent, TokenEvent } from './generation.types';

/**
 * The token deltas of many requests in one worker message, column by column: a message then
 * costs a few typed-array copies and one string, not a cloned object per token (structured
 * clone of per-token objects was the worker's largest cost after onnxruntime itself).
 */
export interface TokenDeltaColumns {
  /** Request key of each delta. */
  keys: Float64Array;
  /** Completion index of each delta's first token. */
  indexes: Uint32Array;
  /** Tokens in each delta; their ids follow one another in `tokenIds`. */
  counts: Uint32Array;
  tokenIds: Uint32Array;
  /** Length (UTF-16 units) of each delta's text within `text`. */
  textLengths: Uint32Array;
  text: string;
}

export interface KeyedDone {
  key: number;
  event: DoneEvent;
}

interface OpenDelta {
  index: number;
  ids: number[];
  text: string;
}

/**
 * Collects generation events between two worker messages: consecutive tokens of one request
 * merge into one delta. Everything goes out together, once the oldest event has waited
 * `intervalMs`, or at once when a request's first token is in (time to first token is never
 * traded away). One message for all requests, rather than one per request falling due, also
 * wakes the receiving thread as seldom as possible. Done events go out after all deltas (a
 * request's done follows its tokens and keys are never reused, so every request keeps its order);
 * an ended request need not wait for the interval (`takeFinished`).
 */
export class TokenDeltaBuffer {
  private deltas = new Map<number, OpenDelta>();
  private dones: KeyedDone[] = [];
  private tokenCount = 0;
  /** When the oldest event waiting was pushed (undefined when none waits). */
  private oldestAt: number | undefined;
  private urgent = false;

  constructor(private readonly intervalMs: number) {}

  push(key: number, event: GenerationEvent, now: number): void {
    this.oldestAt ??= now;
    if (event.type === 'done') {
      this.dones.push({ key, event });
      return;
    }
    if (event.index === 0 || this.intervalMs <= 0) this.urgent = true;
    this.tokenCount += event.tokenIds.length;
    const open = this.deltas.get(key);
    if (!open) {
      this.deltas.set(key, { index: event.index, ids: [...event.tokenIds], text: event.text });
      return;
    }
    for (const id of event.tokenIds) open.ids.push(id);
    open.text += event.text;
  }

  get isEmpty(): boolean {
    return this.oldestAt === undefined;
  }

  /** When what waits falls due (undefined when nothing waits). */
  get nextDueAt(): number | undefined {
    return this.urgent ? this.oldestAt : this.oldestAt === undefined ? undefined : this.oldestAt + this.intervalMs;
  }

  /** Whether what waits is due at `now`. */
  hasDue(now: number): boolean {
    const due = this.nextDueAt;
    return due !== undefined && due <= now;
  }

  /** Whether a request has ended since the last take (its end should not wait: see `takeFinished`). */
  get hasFinished(): boolean {
    return this.dones.length > 0;
  }

  /** Takes everything collected so far, leaving the buffer empty. */
  take(): { deltas: TokenDeltaColumns; dones: KeyedDone[] } {
    const taken = { deltas: columnsOf([...this.deltas], this.tokenCount), dones: this.dones };
    this.deltas = new Map();
    this.dones = [];
    this.tokenCount = 0;
    this.oldestAt = undefined;
    this.urgent = false;
    return taken;
  }

  /**
   * Takes only the requests that ended: their last tokens, then their done events. The others'
   * tokens keep waiting for the interval. A request's end is what its caller (and, in a closed
   * loop, its next request) waits for, so it goes at once, without making every other stream's
   * tokens go at every step a request ends.
   */
  takeFinished(): { deltas: TokenDeltaColumns; dones: KeyedDone[] } {
    const finished: [number, OpenDelta][] = [];
    let tokens = 0;
    for (const { key } of this.dones) {
      const open = this.deltas.get(key);
      if (!open) continue;
      finished.push([key, open]);
      tokens += open.ids.length;
      this.deltas.delete(key);
    }
    const taken = { deltas: columnsOf(finished, tokens), dones: this.dones };
    this.dones = [];
    this.tokenCount -= tokens;
    if (this.deltas.size === 0) {
      this.oldestAt = undefined;
      this.urgent = false;
    }
    return taken;
  }
}

function columnsOf(deltas: readonly [number, OpenDelta][], tokenCount: number): TokenDeltaColumns {
  const n = deltas.length;
  const cols: TokenDeltaColumns = {
    keys: new Float64Array(n),
    indexes: new Uint32Array(n),
    counts: new Uint32Array(n),
    tokenIds: new Uint32Array(tokenCount),
    textLengths: new Uint32Array(n),
    text: '',
  };
  const texts: string[] = [];
  let at = 0;
  deltas.forEach(([key, d], i) => {
    cols.keys[i] = key;
    cols.indexes[i] = d.index;
    cols.counts[i] = d.ids.length;
    cols.tokenIds.set(d.ids, at);
    at += d.ids.length;
    cols.textLengths[i] = d.text.length;
    texts.push(d.text);
  });
  cols.text = texts.join('');
  return cols;
}

/** Calls `each` with every delta of `cols` as a token event, in order. */
export function forEachDelta(cols: TokenDeltaColumns, each: (key: number, event: TokenEvent) => void): void {
  let idAt = 0;
  let textAt = 0;
  for (let i = 0; i < cols.keys.length; i++) {
    const count = cols.counts[i];
    const textEnd = textAt + cols.textLengths[i];
    each(cols.keys[i], {
      type: 'token',
      index: cols.indexes[i],
      tokenIds: Array.from(cols.tokenIds.subarray(idAt, idAt + count)),
      text: cols.text.slice(textAt, textEnd),
    });
    idAt += count;
    textAt = textEnd;
  }
}
