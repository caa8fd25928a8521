import { status } from '@grpc/grpc-js';
import type Redis from 'ioredis';
import type { GrpcServiceContract } from '@troupe/contracts';
import { GrpcCallError, GrpcCallOptions, GrpcCaller, GrpcClient, InstanceOutcome, outcomeOf } from '@troupe/grpc';
import type { RedisSubscriber } from '@troupe/redis';
import type { DiscoverySettings } from './discovery-settings';
import type { DiscoveredInstance } from './instance-record';
import { InstancePicker } from './instance-picker';
import { InstanceWatcher } from './instance-watcher';
import type { PoolObserver } from './pool-metrics';

export interface BalancedPoolOptions {
  contract: GrpcServiceContract;
  defaultDeadlineMs: number;
  maxMessageBytes?: number;
  /** The model a call must reach an instance of (inference Generate/Embed), or undefined for any instance. */
  modelOf?: (method: string, request: unknown) => string | undefined;
  /** Told of every attempt's outcome, retry and cool-down (metrics). */
  observer?: PoolObserver;
}

/** One discovered instance as /health shows it. */
export interface PoolInstanceView {
  id: string;
  address: string;
  models: string[];
  load: DiscoveredInstance['load'];
  /** Calls this client has open to it. */
  open: number;
  coolingDown: boolean;
}

interface Target {
  id: string;
  address: string;
  client: GrpcClient;
}

/** One call across its attempts: one deadline for all, the instances tried so far. */
interface PlannedCall {
  method: string;
  model: string | undefined;
  options: GrpcCallOptions;
  deadlineAt: number;
  tried: Set<string>;
}

interface Attempt {
  target: Target;
  started: number;
  /** The caller's options with what is left of the deadline. */
  options: GrpcCallOptions;
}

/**
 * The GrpcCaller of a service found in the registry: one GrpcClient per discovered instance,
 * and for each call an instance chosen by the picker (load-aware or round-robin, only among
 * instances that serve the request's model). An instance that fails a call with UNAVAILABLE
 * cools down. A call that fails with UNAVAILABLE before any answer arrived — a unary call, or
 * a stream before its first message — is retried once on another instance when that is safe
 * (a read, or a write no server saw; see mayRetry). A stream that
 * already delivered a message is never retried (the caller has tokens it would see twice):
 * it ends with a GrpcCallError saying the instance went away mid-stream.
 */
export class BalancedGrpcPool implements GrpcCaller {
  private readonly targets = new Map<string, Target>();

  constructor(
    private readonly watcher: InstanceWatcher,
    private readonly picker: InstancePicker,
    private readonly options: BalancedPoolOptions,
    private readonly now: () => number = Date.now,
  ) {
    watcher.onChange((instances) => this.retireLeft(instances));
  }

  /** A pool over `service`'s instances in the registry `redis` (with the deployment's key prefix) holds. */
  static open(
    redis: Redis,
    subscriber: RedisSubscriber,
    settings: Pick<DiscoverySettings, 'balancing' | 'cooldownMs' | 'heartbeatMs'>,
    service: string,
    options: BalancedPoolOptions,
  ): BalancedGrpcPool {
    const watcher = new InstanceWatcher(redis, subscriber, service, settings.heartbeatMs);
    void watcher.start();
    return new BalancedGrpcPool(watcher, new InstancePicker(settings.balancing, settings.cooldownMs), options);
  }

  get contract(): GrpcServiceContract {
    return this.options.contract;
  }

  get address(): string {
    const known = this.watcher.instances(this.now()).map((i) => i.address);
    return `registry:${this.watcher.service} [${known.join(', ')}]`;
  }

  /** Live instances with their load and this client's view of them. */
  instances(): PoolInstanceView[] {
    const now = this.now();
    return this.watcher.instances(now).map((i) => ({
      id: i.id,
      address: i.address,
      models: i.models,
      load: i.load,
      open: this.picker.openTo(i.id),
      coolingDown: this.picker.isCooling(i.id, now),
    }));
  }

  async unary<Req, Res>(method: string, request: Req, options: GrpcCallOptions = {}): Promise<Res> {
    const call = this.plan(method, request, options);
    for (;;) {
      const attempt = this.attempt(call);
      try {
        const response = await attempt.target.client.unary<Req, Res>(method, request, attempt.options);
        this.answered(call, attempt);
        this.observe(attempt.target, 'OK');
        return response;
      } catch (e) {
        this.observe(attempt.target, outcomeName(e));
        if (!this.mayRetry(e, call, attempt)) throw e;
      } finally {
        this.finished(attempt.target);
      }
    }
  }

  async *serverStream<Req, Res>(method: string, request: Req, options: GrpcCallOptions = {}): AsyncGenerator<Res> {
    const call = this.plan(method, request, options);
    for (;;) {
      const attempt = this.attempt(call);
      let received = 0;
      let outcome = 'CANCELLED'; // unless it ends or fails: the caller stopped reading
      try {
        for await (const message of attempt.target.client.serverStream<Req, Res>(method, request, attempt.options)) {
          received++;
          yield message;
        }
        // The whole stream counts: a slowed instance stretches every token, not only the first.
        this.answered(call, attempt);
        outcome = 'OK';
        return;
      } catch (e) {
        outcome = outcomeName(e);
        if (received === 0 && this.mayRetry(e, call, attempt)) continue;
        if (received > 0 && e instanceof GrpcCallError && e.code === status.UNAVAILABLE) {
          // Never retried after the first message: the caller already has part of the answer.
          const { id, address } = attempt.target;
          throw new GrpcCallError(method, e.code, `${this.watcher.service} instance ${id} at ${address} went away mid-stream after ${received} messages (not retried): ${e.details}`);
        }
        throw e;
      } finally {
        this.observe(attempt.target, outcome);
        this.finished(attempt.target);
      }
    }
  }

  /** Every live instance gets the call (no picking, no retry); an empty registry is UNAVAILABLE. */
  async unaryEach<Req, Res>(method: string, request: Req, options: GrpcCallOptions = {}): Promise<InstanceOutcome<Res>[]> {
    const instances = this.watcher.instances(this.now());
    if (instances.length === 0) throw new GrpcCallError(method, status.UNAVAILABLE, this.noInstance(instances, undefined, new Set()));
    return Promise.all(
      instances.map(async (instance) => {
        const target = this.targetFor(instance);
        this.picker.started(target.id);
        let outcome = 'UNKNOWN';
        try {
          const answer = await outcomeOf(target.id, target.address, () => target.client.unary<Req, Res>(method, request, options));
          outcome = answer.error?.statusName ?? 'OK';
          return answer;
        } finally {
          this.observe(target, outcome);
          this.finished(target);
        }
      }),
    );
  }

  /** Resolves once at least one instance is known (readiness); the channel connects on the first call. */
  async waitForReady(timeoutMs: number): Promise<void> {
    const deadline = this.now() + timeoutMs;
    while (this.watcher.instances(this.now()).length === 0) {
      if (this.now() >= deadline) throw new Error(`no ${this.watcher.service} instance in the service registry`);
      await this.watcher.refresh();
      if (this.watcher.instances(this.now()).length > 0) break;
      await new Promise((r) => setTimeout(r, Math.min(100, Math.max(1, deadline - this.now()))));
    }
  }

  close(): void {
    void this.watcher.close();
    for (const target of this.targets.values()) target.client.close();
    this.targets.clear();
  }

  private choose(method: string, model: string | undefined, tried: Set<string>): Target {
    const instances = this.watcher.instances(this.now());
    const picked = this.picker.pick(instances, { model, exclude: tried, kind: kindOf(method, model) }, this.now());
    if (!picked) throw new GrpcCallError(method, status.UNAVAILABLE, this.noInstance(instances, model, tried));
    tried.add(picked.id);
    return this.targetFor(picked);
  }

  /** The channel to an instance, opened on first use. */
  private targetFor(instance: DiscoveredInstance): Target {
    let target = this.targets.get(instance.id);
    if (!target) {
      const client = new GrpcClient(this.options.contract, instance.address, this.options.defaultDeadlineMs, this.options.maxMessageBytes);
      target = { id: instance.id, address: instance.address, client };
      this.targets.set(instance.id, target);
    }
    return target;
  }

  private plan(method: string, request: unknown, options: GrpcCallOptions): PlannedCall {
    const deadlineAt = this.now() + (options.deadlineMs ?? this.options.defaultDeadlineMs);
    return { method, model: this.options.modelOf?.(method, request), options, deadlineAt, tried: new Set() };
  }

  private attempt(call: PlannedCall): Attempt {
    const target = this.choose(call.method, call.model, call.tried);
    this.picker.started(target.id);
    return { target, started: this.now(), options: { ...call.options, deadlineMs: call.deadlineAt - this.now() } };
  }

  private answered(call: PlannedCall, attempt: Attempt): void {
    this.picker.observe(attempt.target.id, kindOf(call.method, call.model), this.now() - attempt.started, this.now());
  }

  /**
   * UNAVAILABLE cools the instance down; the call moves on once, if time and the caller allow,
   * and if running it twice cannot do harm: a read, or a write that never reached a server.
   */
  private mayRetry(e: unknown, call: PlannedCall, attempt: Attempt): boolean {
    if (!(e instanceof GrpcCallError) || e.code !== status.UNAVAILABLE) return false;
    this.picker.coolDown(attempt.target.id, this.now());
    this.options.observer?.cooledDown(this.watcher.service, attempt.target.address);
    if (!isReadOnly(call.method) && !neverConnected(e)) return false;
    const retrying = call.tried.size < 2 && !call.options.signal?.aborted && call.deadlineAt > this.now();
    if (retrying) this.options.observer?.retried(this.watcher.service);
    return retrying;
  }

  private observe(target: Target, outcome: string): void {
    this.options.observer?.called(this.watcher.service, target.address, outcome);
  }

  private finished(target: Target): void {
    this.picker.finished(target.id);
    if (!this.watcher.instances(this.now()).some((i) => i.id === target.id)) this.closeIfIdle(target);
  }

  private noInstance(instances: DiscoveredInstance[], model: string | undefined, tried: Set<string>): string {
    const service = this.watcher.service;
    if (instances.length === 0) return `no ${service} instance in the service registry`;
    const serving = model === undefined ? instances : instances.filter((i) => i.models.includes(model));
    if (serving.length === 0) return `no ${service} instance serves model "${model}" (${instances.length} instances known)`;
    const what = `${service} instance${model === undefined ? '' : ` serving model "${model}"`}`;
    if (tried.size > 0) return `the ${what} tried was unavailable and no other one is available (${serving.length} known)`;
    return `no ${what} is available: all ${serving.length} are cooling down after failing calls`;
  }

  /** Instances that left the registry: their channels close once no call of ours is open on them. */
  private retireLeft(instances: readonly DiscoveredInstance[]): void {
    const live = new Set(instances.map((i) => i.id));
    this.picker.forgetAllBut(live);
    for (const target of this.targets.values()) if (!live.has(target.id)) this.closeIfIdle(target);
  }

  private closeIfIdle(target: Target): void {
    if (this.picker.openTo(target.id) > 0) return;
    target.client.close();
    this.targets.delete(target.id);
  }
}

/**
 * Methods that change nothing (Troupe's read methods are named so): safe to run again when an
 * instance failed without answering. Writes (append, put, delete, remember, invoke, load...) may
 * have been applied before the instance went away, so they are not repeated.
 */
export const isReadOnly = (method: string) => /^(get|list|count|recall|assemble|embed|generate)[A-Z]?/.test(method);

/** OK or the gRPC status name of how an attempt ended. */
const outcomeName = (e: unknown) => (e instanceof GrpcCallError ? e.statusName : 'UNKNOWN');

/** gRPC's own words for a call that found no connection to send on: no server saw it. */
const neverConnected = (e: GrpcCallError) => /No connection established/.test(e.details);

/** Calls of one method for one model take comparable time; latencies are compared per kind. */
const kindOf = (method: string, model: string | undefined) => (model ? `${method}:${model}` : method);
