/** A callback waiting for its tick; `cancel` takes it back (no-op once it ran). */
export interface TickHandle {
  cancel(): void;
}

interface Tick {
  timer: NodeJS.Timeout;
  callbacks: Set<(tickAt: number) => void>;
}

/**
 * Timers that fire on a grid shared by every caller: a callback due in `waitMs` runs at the
 * first multiple of the grid at or after that moment, together with every other callback due
 * in the same tick. Writes they issue then leave together: ioredis's auto-pipelining sends
 * them as one write, HTTP/2 as one frame burst. A socket write (and the peer's read of it)
 * costs far more than the bytes it carries, so N streams flushed on N private timers cost N
 * writes an interval where the grid costs one. A stream flushed every `grid` ms stays on the
 * grid: only its first wait grows (by less than one grid step).
 */
export class TickGrid {
  private readonly ticks = new Map<number, Tick>();
  private readonly gridMs: () => number;

  /** `gridMs`: the grid step (ms), or where to read it at each use (it may change); below 1 ms, 1 ms. */
  constructor(gridMs: number | (() => number)) {
    this.gridMs = typeof gridMs === 'number' ? () => gridMs : gridMs;
  }

  /**
   * Runs `callback` at the first grid tick at least `waitMs` from now. It gets the tick's time
   * (epoch ms): Date.now() may read a millisecond short of it when the timer fires.
   */
  after(waitMs: number, callback: (tickAt: number) => void): TickHandle {
    const step = Math.max(1, Math.round(this.gridMs()));
    const now = Date.now();
    const at = Math.ceil((now + Math.max(0, waitMs)) / step) * step;
    const tick = this.ticks.get(at) ?? this.open(at, at - now);
    // An entry of its own, so the same function scheduled twice is cancelled once.
    const entry = (tickAt: number) => callback(tickAt);
    tick.callbacks.add(entry);
    return {
      cancel: () => {
        if (!tick.callbacks.delete(entry) || tick.callbacks.size > 0) return;
        clearTimeout(tick.timer);
        if (this.ticks.get(at) === tick) this.ticks.delete(at);
      },
    };
  }

  /** Ticks with callbacks waiting (for tests). */
  get pending(): number {
    return this.ticks.size;
  }

  private open(at: number, delayMs: number): Tick {
    const tick: Tick = { callbacks: new Set(), timer: setTimeout(() => this.fire(at, tick), delayMs) };
    this.ticks.set(at, tick);
    return tick;
  }

  private fire(at: number, tick: Tick): void {
    if (this.ticks.get(at) === tick) this.ticks.delete(at);
    const callbacks = [...tick.callbacks];
    tick.callbacks.clear();
    for (const callback of callbacks) callback(at);
  }
}
