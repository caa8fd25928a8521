import { Inject, Injectable } from '@nestjs/common';
import type Redis from 'ioredis';
import type { GrpcServiceContract } from '@troupe/contracts';
import { GrpcCaller, GrpcClient } from '@troupe/grpc';
import { HealthDetail } from '@troupe/health';
import { MetricsService } from '@troupe/metrics';
import { REDIS, RedisSubscriber } from '@troupe/redis';
import { BalancedGrpcPool } from './balanced-grpc-pool';
import type { DiscoverySettings } from './discovery-settings';
import { PoolMetrics } from './pool-metrics';

/** Injection token of the service's resolved discovery settings. */
export const DISCOVERY_SETTINGS = Symbol('DISCOVERY_SETTINGS');

export interface PeerSpec {
  contract: GrpcServiceContract;
  /** The peer's service name in the registry (role-context, tool-plugin, inference). */
  service: string;
  /** host:port (or a DNS name) used with DISCOVERY=static. */
  staticAddress: string;
  deadlineMs: number;
  maxMessageBytes?: number;
  /** The model a call must reach an instance of (see BalancedPoolOptions.modelOf). */
  modelOf?: (method: string, request: unknown) => string | undefined;
}

/**
 * Opens the caller of a peer service the way the deployment finds peers: one channel to its
 * static address (DISCOVERY=static), or a balanced pool over its instances in the registry
 * (DISCOVERY=redis). Callers close what they open.
 */
@Injectable()
export class PeerChannels {
  private metrics?: PoolMetrics;

  constructor(
    @Inject(DISCOVERY_SETTINGS) private readonly settings: DiscoverySettings,
    @Inject(REDIS) private readonly redis: Redis,
    private readonly subscriber: RedisSubscriber,
    private readonly metricsService: MetricsService,
  ) {}

  open(peer: PeerSpec): GrpcCaller {
    if (this.settings.mode === 'static') return new GrpcClient(peer.contract, peer.staticAddress, peer.deadlineMs, peer.maxMessageBytes);
    // Registered with the first pool: a static deployment shows no peer metrics.
    this.metrics ??= new PoolMetrics(this.metricsService);
    const pool = BalancedGrpcPool.open(this.redis, this.subscriber, this.settings, peer.service, {
      contract: peer.contract,
      defaultDeadlineMs: peer.deadlineMs,
      maxMessageBytes: peer.maxMessageBytes,
      modelOf: peer.modelOf,
      observer: this.metrics,
    });
    this.metrics.watch(peer.service, () => pool.instances().length);
    return pool;
  }
}

/**
 * A readiness check of a peer: its channel connects (static), or at least one instance is in
 * the registry (discovery), in which case /health lists the instances with their load.
 */
export async function peerReadiness(caller: GrpcCaller, timeoutMs: number): Promise<HealthDetail | undefined> {
  await caller.waitForReady(timeoutMs);
  return caller instanceof BalancedGrpcPool ? new HealthDetail({ instances: caller.instances() }) : undefined;
}

/** Routes the named methods by their request's `model` field (empty: the instance's default model, so any instance). */
export function routeByModelField(methods: readonly string[]): (method: string, request: unknown) => string | undefined {
  return (method, request) => (methods.includes(method) ? (request as { model?: string }).model || undefined : undefined);
}
