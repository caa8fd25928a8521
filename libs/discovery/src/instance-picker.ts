import type { BalancingPolicy } from './discovery-settings';
import type { DiscoveredInstance } from './instance-record';

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
 * burst would pile onto whichever instance looked idle a second ago). Two instances are compared
 * directly; of more, two random ones (power of two choices), so many clients do not all herd
 * onto the same "best" one. Ties go round-robin. round-robin ignores load.
 *
 * Instances whose record lapsed, or that failed a call with UNAVAILABLE less than `cooldownMs`
 * ago, are skipped.
 */
export class InstancePicker {
  private readonly open = new Map<string, number>();
  private readonly cooledUntil = new Map<string, number>();
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
    return compared.reduce((best, i) => (this.score(i) < this.score(best) ? i : best));
  }

  /** Reported load plus the calls this client has open to the instance. */
  score(instance: DiscoveredInstance): number {
    return instance.load.inFlight + instance.load.queueDepth + (this.open.get(instance.id) ?? 0);
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
  }

  private twoAtRandom(candidates: DiscoveredInstance[]): DiscoveredInstance[] {
    const a = Math.floor(this.random() * candidates.length);
    const b = (a + 1 + Math.floor(this.random() * (candidates.length - 1))) % candidates.length;
    return [candidates[a], candidates[b]];
  }
}
