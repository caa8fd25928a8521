import type { BalancingPolicy } from './discovery-settings';
import type { DiscoveredInstance } from './instance-record';

/** Weight of a new observation in the latency EWMA. */
const LATENCY_WEIGHT = 0.3;
/** An instance answering this many times slower than the fastest (plus the slack) is left out. */
const SLOW_FACTOR = 3;
/** Absolute slack on top, so millisecond jitter between two quick instances never leaves one out. */
const SLOW_SLACK_MS = 5;
/** How often an instance left out as slow gets one call to see whether it recovered. */
export const SLOW_PROBE_INTERVAL_MS = 2_000;

export interface PickRequest {
  /** Only instances that list this model qualify; undefined: any instance. */
  model?: string;
  /** Instances already tried for this call. */
  exclude?: ReadonlySet<string>;
  /** What kind of call it is (method and model): latencies are kept and compared per kind. */
  kind?: string;
}

/**
 * Chooses the instance for one call, with no I/O: the balanced pool feeds it the instances it
 * discovered and tells it when calls start, end, answer and fail.
 *
 * load-aware scores an instance by its reported load (in-flight + queue depth) plus the calls
 * this client has open to it now (reports are up to a heartbeat old, so without that term a
 * burst would pile onto whichever instance looked idle a second ago), and takes the lowest.
 * Two instances are compared directly; of more, two random ones (power of two choices), so
 * many clients do not all herd onto the same "best" one. Ties go round-robin.
 *
 * Counts alone only even out the calls in flight: an instance 20× slower would still get about
 * one call in twenty, and those calls are the tail. So load-aware also keeps, per instance and
 * kind of call (method and model), an EWMA of how long its calls took, streams to their end,
 * and leaves out an instance answering more than SLOW_FACTOR× slower than the fastest — except for one probing call every SLOW_PROBE_INTERVAL_MS, which lets a
 * recovered instance back in.
 *
 * round-robin ignores load and latency. Both skip instances whose record lapsed, and ones that
 * failed a call with UNAVAILABLE less than `cooldownMs` ago.
 */
export class InstancePicker {
  private readonly open = new Map<string, number>();
  private readonly cooledUntil = new Map<string, number>();
  private readonly latency = new Map<string, { ms: number; at: number }>();
  private readonly probedAt = new Map<string, number>();
  private turn = 0;

  constructor(
    private readonly policy: BalancingPolicy,
    private readonly cooldownMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** The instances a call may go to now, in discovery order. */
  eligible(instances: readonly DiscoveredInstance[], request: PickRequest, now: number): DiscoveredInstance[] {
    return instances.filter(
      (i) =>
        i.expiresAt > now &&
        (this.cooledUntil.get(i.id) ?? 0) <= now &&
        !request.exclude?.has(i.id) &&
        (request.model === undefined || i.models.includes(request.model)),
    );
  }

  pick(instances: readonly DiscoveredInstance[], request: PickRequest, now: number): DiscoveredInstance | undefined {
    const candidates = this.eligible(instances, request, now);
    if (candidates.length <= 1) return candidates[0];
    const start = this.turn++ % candidates.length;
    const rotated = [...candidates.slice(start), ...candidates.slice(0, start)];
    if (this.policy === 'round-robin') return rotated[0];
    const kind = request.kind ?? '';
    const threshold = this.slowThreshold(candidates, kind);
    const usable = rotated.filter((i) => !this.isSlow(i.id, kind, threshold) || this.mayProbe(i.id, kind, now));
    const pool = usable.length > 0 ? usable : rotated;
    const compared = pool.length <= 2 ? pool : this.twoAtRandom(pool);
    const picked = compared.reduce((best, i) => (this.score(i) < this.score(best) ? i : best));
    if (this.isSlow(picked.id, kind, threshold)) this.probedAt.set(key(picked.id, kind), now);
    return picked;
  }

  /** Reported load plus the calls this client has open to the instance. */
  score(instance: DiscoveredInstance): number {
    return instance.load.inFlight + instance.load.queueDepth + (this.open.get(instance.id) ?? 0);
  }

  /** How long a call of this kind to the instance took (a stream: until its end). */
  observe(id: string, kind: string, ms: number, now: number): void {
    const previous = this.latency.get(key(id, kind))?.ms ?? ms;
    this.latency.set(key(id, kind), { ms: previous + LATENCY_WEIGHT * (ms - previous), at: now });
  }

  /** The instance's latency for calls of this kind as this client saw it (undefined before one ended). */
  latencyOf(id: string, kind: string): number | undefined {
    return this.latency.get(key(id, kind))?.ms;
  }

  /** Latency past which an instance counts as slow among these candidates. */
  private slowThreshold(candidates: readonly DiscoveredInstance[], kind: string): number {
    let fastest = Infinity;
    for (const i of candidates) fastest = Math.min(fastest, this.latencyOf(i.id, kind) ?? Infinity);
    return Number.isFinite(fastest) ? SLOW_FACTOR * fastest + SLOW_SLACK_MS : Infinity;
  }

  private isSlow(id: string, kind: string, threshold: number): boolean {
    return (this.latencyOf(id, kind) ?? 0) > threshold;
  }

  /** One call at a time, once per interval since it was last seen answering or probed. */
  private mayProbe(id: string, kind: string, now: number): boolean {
    const last = Math.max(this.latency.get(key(id, kind))?.at ?? 0, this.probedAt.get(key(id, kind)) ?? 0);
    return this.openTo(id) === 0 && now - last >= SLOW_PROBE_INTERVAL_MS;
  }

  /** Calls this client has open to the instance. */
  openTo(id: string): number {
    return this.open.get(id) ?? 0;
  }

  started(id: string): void {
    this.open.set(id, (this.open.get(id) ?? 0) + 1);
  }

  finished(id: string): void {
    const left = (this.open.get(id) ?? 1) - 1;
    if (left > 0) this.open.set(id, left);
    else this.open.delete(id);
  }

  /** After an UNAVAILABLE failure: no calls go to the instance for the cool-down. */
  coolDown(id: string, now: number): void {
    this.cooledUntil.set(id, now + this.cooldownMs);
  }

  isCooling(id: string, now: number): boolean {
    return (this.cooledUntil.get(id) ?? 0) > now;
  }

  /** Drops what is kept about instances that left the registry. */
  forgetAllBut(ids: ReadonlySet<string>): void {
    for (const id of this.cooledUntil.keys()) if (!ids.has(id)) this.cooledUntil.delete(id);
    for (const map of [this.latency, this.probedAt]) for (const k of map.keys()) if (!ids.has(idOf(k))) map.delete(k);
  }

  private twoAtRandom(candidates: DiscoveredInstance[]): DiscoveredInstance[] {
    const a = Math.floor(this.random() * candidates.length);
    const b = (a + 1 + Math.floor(this.random() * (candidates.length - 1))) % candidates.length;
    return [candidates[a], candidates[b]];
  }
}

/** Latencies are kept per instance and kind of call; instance ids hold no spaces. */
const key = (id: string, kind: string) => `${id} ${kind}`;
const idOf = (k: string) => k.slice(0, k.indexOf(' '));
