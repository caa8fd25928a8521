import { networkInterfaces } from 'node:os';

/** static: peers at their *_ADDRESS settings (DNS names included); redis: peers found in the registry. */
export const DISCOVERY_MODES = ['static', 'redis'] as const;
export type DiscoveryMode = (typeof DISCOVERY_MODES)[number];

/** How a balanced pool picks an instance for each call. */
export const BALANCING_POLICIES = ['load-aware', 'round-robin'] as const;
export type BalancingPolicy = (typeof BALANCING_POLICIES)[number];

/** The discovery variables every service reads (BaseServiceConfig carries them). */
export interface DiscoveryEnvironment {
  DISCOVERY: DiscoveryMode;
  BALANCING: BalancingPolicy;
  DISCOVERY_HEARTBEAT_MS: number;
  DISCOVERY_TTL_MS: number;
  DISCOVERY_COOLDOWN_MS: number;
  /** host:port other services reach this one's gRPC server at; '' derives it from BIND_HOST. */
  ADVERTISE_ADDRESS: string;
  BIND_HOST: string;
}

export interface DiscoverySettings {
  mode: DiscoveryMode;
  balancing: BalancingPolicy;
  heartbeatMs: number;
  ttlMs: number;
  cooldownMs: number;
  advertiseAddress: string;
  bindHost: string;
}

export function resolveDiscoverySettings(env: DiscoveryEnvironment): DiscoverySettings {
  return {
    mode: env.DISCOVERY,
    balancing: env.BALANCING,
    heartbeatMs: env.DISCOVERY_HEARTBEAT_MS,
    ttlMs: env.DISCOVERY_TTL_MS,
    cooldownMs: env.DISCOVERY_COOLDOWN_MS,
    advertiseAddress: env.ADVERTISE_ADDRESS,
    bindHost: env.BIND_HOST,
  };
}

/**
 * Where other services reach this instance's gRPC server: ADVERTISE_ADDRESS when set, else the
 * bind host, or for a wildcard bind (0.0.0.0, ::) this host's first non-internal IPv4 address
 * (a container's or pod's own address), falling back to loopback.
 */
export function advertisedAddress(settings: DiscoverySettings, grpcPort: number): string {
  if (settings.advertiseAddress) return settings.advertiseAddress;
  const wildcard = ['0.0.0.0', '::', '[::]', ''].includes(settings.bindHost);
  const host = wildcard ? firstExternalIpv4() ?? '127.0.0.1' : settings.bindHost;
  return `${host.includes(':') && !host.startsWith('[') ? `[${host}]` : host}:${grpcPort}`;
}

function firstExternalIpv4(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    for (const a of addresses ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}
