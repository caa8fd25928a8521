import type { BalancingPolicy } from './discovery-settings';
import type { DiscoveredInstance } from './instance-record';

/** Weight of a faster observation in the latency EWMA. */
const LATENCY_WEIGHT = 0.3;
/** An instance's latency estimate loses half its lead over the fastest one per this long unobserved. */
const LATENCY_HALF_LIFE_MS = 2_000;
/** Latencies below this count as equal (sub-millisecond noise must not decide). */
const MIN_LATENCY_MS = 1;

export interface PickRequest {
  /** Only instances that list this model qualify; undefined: any instance. */
  model?: string;
  /** Instances already tried for this call. */
  exclude?: ReadonlySet<string>;
}

/**
 * Chooses the instance for one call, with no I/O: the balanced pool feeds it the instances it
 * discovered and tells it when calls start, end and fail.
 *
 * load-aware scores an instance by its reported load (in-flight + queue depth) plus the calls
 * this client has open to it now (reports are up to a heartbeat old, so without that term a
 * burst would pile onto whichever instance looked idle a second ago), times how long it has
 * been taking to answer this client (an EWMA of the time to the first answer, "peak EWMA" in
 * Finagle's terms). Counts alone only even out the calls in flight: an instance 20× slower
 * would still get one call in twenty, and those calls are the tail. An instance not asked for
 * a while drifts back towards the fastest one's latency, so it is probed again and a recovered
 * instance wins its share back. Two instances are compared directly; of more, two random ones
 * (power of two choices), so many clients do not all herd onto the same "best" one. Ties go
 * round-robin. round-robin ignores load and latency.
 *
 * Instances whose record lapsed, or that failed a call with UNAVAILABLE less than `cooldownMs`
 * ago, are skipped.
 */
export class InstancePicker {
  private readonly open = new Map<string, number>();
  private readonly cooledUntil = new Map<string, number>();
  private readonly latency = new Map<string, { ms: number; at: number }>();
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
    const compared = rotated.length <= 2 ? rotated : this.twoAtRandom(rotated);
    const fastest = this.fastest(candidates);
    const score = (i: DiscoveredInstance) => this.score(i, now, fastest);
    return compared.reduce((best, i) => (score(i) < score(best) ? i : best));
  }

  /** (Reported load + calls this client has open to it + 1) × its answer latency as this client saw it. */
  score(instance: DiscoveredInstance, now: number, fastestMs = 1): number {
    const calls = instance.load.inFlight + instance.load.queueDepth + (this.open.get(instance.id) ?? 0) + 1;
    return calls * this.latencyOf(instance.id, now, fastestMs);
  }

  /** How long a call to the instance took to get its first answer. */
  observe(id: string, ms: number, now: number): void {
    const previous = this.latency.get(id);
    // An old estimate counts for less: it drifts towards this observation as it would towards the fastest.
    const current = previous ? ms + (previous.ms - ms) * 0.5 ** ((now - previous.at) / LATENCY_HALF_LIFE_MS) : ms;
    // A slower answer counts at once (a stalling instance is left quickly); faster ones ease it down.
    this.latency.set(id, { ms: ms > current ? ms : current + LATENCY_WEIGHT * (ms - current), at: now });
  }

  /** The EWMA, drifted towards `fastestMs` the longer it went without an observation; unknown: `fastestMs`. */
  private latencyOf(id: string, now: number, fastestMs: number): number {
    const seen = this.latency.get(id);
    if (!seen) return Math.max(MIN_LATENCY_MS, fastestMs);
    const kept = 0.5 ** ((now - seen.at) / LATENCY_HALF_LIFE_MS);
    return Math.max(MIN_LATENCY_MS, fastestMs + (seen.ms - fastestMs) * kept);
  }

  private fastest(candidates: readonly DiscoveredInstance[]): number {
    let fastest = Infinity;
    for (const i of candidates) fastest = Math.min(fastest, this.latency.get(i.id)?.ms ?? Infinity);
    return Number.isFinite(fastest) ? fastest : MIN_LATENCY_MS;
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
    for (const id of this.latency.keys()) if (!ids.has(id)) this.latency.delete(id);
  }

  private twoAtRandom(candidates: DiscoveredInstance[]): DiscoveredInstance[] {
    const a = Math.floor(this.random() * candidates.length);
    const b = (a + 1 + Math.floor(this.random() * (candidates.length - 1))) % candidates.length;
    return [candidates[a], candidates[b]];
  }
}
