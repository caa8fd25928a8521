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
  /** When its first token was pushed (ms). */
  openedAt: number;
  /** Its request ended: the delta goes out with the done event, at once. */
  closing: boolean;
}

/**
 * Collects generation events between two worker messages: consecutive tokens of one request
 * merge into one delta, which is due once it has waited `intervalMs`, at once when it holds
 * the request's first token (time to first token is never traded away) or when the request
 * has ended. Done events go out with (after) their request's last delta; keys are never
 * reused, so tokens-then-dones keeps every request's order.
 */
export class TokenDeltaBuffer {
  /**
   * In insertion order, which is also age order. take() builds a new map of what stays rather
   * than deleting: a Map keeps deleted slots until it rehashes, and finding the oldest entry
   * would walk over them.
   */
  private deltas = new Map<number, OpenDelta>();
  private dones: KeyedDone[] = [];
  private urgent = false;

  constructor(private readonly intervalMs: number) {}

  push(key: number, event: GenerationEvent, now: number): void {
    const open = this.deltas.get(key);
    if (event.type === 'done') {
      this.dones.push({ key, event });
      if (open) open.closing = true;
      this.urgent = true;
      return;
    }
    if (!open) {
      this.deltas.set(key, { index: event.index, ids: [...event.tokenIds], text: event.text, openedAt: now, closing: false });
      if (event.index === 0 || this.intervalMs <= 0) this.urgent = true;
      return;
    }
    for (const id of event.tokenIds) open.ids.push(id);
    open.text += event.text;
  }

  get isEmpty(): boolean {
    return this.deltas.size === 0 && this.dones.length === 0;
  }

  /** When the oldest open delta falls due (undefined when nothing waits). */
  get nextDueAt(): number | undefined {
    for (const d of this.deltas.values()) return d.openedAt + this.intervalMs;
    return undefined;
  }

  /** Whether something is due at `now`. */
  hasDue(now: number): boolean {
    const next = this.nextDueAt;
    return this.urgent || (next !== undefined && next <= now);
  }

  /** Takes the deltas due at `now` (all of them with `all`) and every done event. */
  take(now: number, all = false): { deltas: TokenDeltaColumns; dones: KeyedDone[] } {
    const due: [number, OpenDelta][] = [];
    const waiting = new Map<number, OpenDelta>();
    let tokens = 0;
    for (const entry of this.deltas) {
      const d = entry[1];
      if (all || d.closing || d.index === 0 || d.openedAt + this.intervalMs <= now) {
        due.push(entry);
        tokens += d.ids.length;
      } else waiting.set(entry[0], d);
    }
    this.deltas = waiting;
    const n = due.length;
    const cols: TokenDeltaColumns = {
      keys: new Float64Array(n),
      indexes: new Uint32Array(n),
      counts: new Uint32Array(n),
      tokenIds: new Uint32Array(tokens),
      textLengths: new Uint32Array(n),
      text: '',
    };
    const texts: string[] = [];
    let at = 0;
    due.forEach(([key, d], i) => {
      cols.keys[i] = key;
      cols.indexes[i] = d.index;
      cols.counts[i] = d.ids.length;
      cols.tokenIds.set(d.ids, at);
      at += d.ids.length;
      cols.textLengths[i] = d.text.length;
      texts.push(d.text);
    });
    cols.text = texts.join('');
    const dones = this.dones;
    this.dones = [];
    this.urgent = false;
    return { deltas: cols, dones };
  }
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
