/**
 * Finds stop strings in streamed completion text. Text that could still be the start of a stop
 * string is held back until it is decided, so a client never sees part of a stop string.
 */
export class StopSequenceMatcher {
  private pending = '';
  private stopped = false;

  constructor(private readonly stops: readonly string[]) {}

  get hasStopped(): boolean {
    return this.stopped;
  }

  /** Adds a text delta; returns the text now safe to emit and whether a stop string matched. */
  push(delta: string): { text: string; stopped: boolean } {
    if (this.stopped) return { text: '', stopped: true };
    if (this.stops.length === 0) return { text: delta, stopped: false };
    this.pending += delta;
    let cut = -1;
    for (const s of this.stops) {
      const at = this.pending.indexOf(s);
      if (at >= 0 && (cut < 0 || at < cut)) cut = at;
    }
    if (cut >= 0) {
      this.stopped = true;
      const text = this.pending.slice(0, cut);
      this.pending = '';
      return { text, stopped: true };
    }
    const hold = this.heldSuffixLength();
    const text = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return { text, stopped: false };
  }

  /** Releases held-back text (the completion ended for another reason). */
  flush(): string {
    const text = this.stopped ? '' : this.pending;
    this.pending = '';
    return text;
  }

  /** Length of the longest suffix of `pending` that is a proper prefix of some stop string. */
  private heldSuffixLength(): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, this.pending.length); n > best; n--) {
        if (this.pending.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
