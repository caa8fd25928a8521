/** What an instance reports about its load on every heartbeat. */
export interface InstanceLoad {
  /** gRPC calls it is serving now (streams count until they end). */
  inFlight: number;
  /** Requests waiting behind the running work (inference: queued generations). */
  queueDepth: number;
  /** p99 event-loop delay over the last heartbeat interval, in ms. */
  eventLoopDelayP99Ms: number;
}

/** One instance's entry in the registry (JSON under its record key). */
export interface InstanceRecord {
  id: string;
  service: string;
  /** host:port of its gRPC server. */
  address: string;
  /** Models it serves (inference only; empty for the other services). */
  models: string[];
  load: InstanceLoad;
  startedAt: number;
  /** The announcer's clock at the last heartbeat (informational; expiry uses the key's TTL). */
  updatedAt: number;
}

/** A record as a client sees it: when it lapses by this client's clock unless renewed. */
export interface DiscoveredInstance extends InstanceRecord {
  expiresAt: number;
}

/**
 * Registry keys, all under the deployment's key prefix (ioredis adds it): the record itself
 * with a PX expiry, and an index of the service's instances (a sorted set scored by expiry,
 * pruned of members whose record is gone). Join/leave notices go out on a pub/sub channel.
 */
export const registryKeys = {
  index: (service: string) => `discovery:${service}:instances`,
  record: (service: string, id: string) => `discovery:${service}:instance:${id}`,
  /** Logical channel name; prefix it with prefixedChannel (ioredis does not prefix channels). */
  changes: (service: string) => `discovery:${service}:changes`,
};

const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

/** Parses a record read from Redis; undefined when it is not one (another version, corruption). */
export function parseInstanceRecord(json: string): InstanceRecord | undefined {
  let value: Partial<InstanceRecord>;
  try {
    value = JSON.parse(json) as Partial<InstanceRecord>;
  } catch {
    return undefined;
  }
  const load = value?.load as Partial<InstanceLoad> | undefined;
  const valid =
    typeof value?.id === 'string' &&
    typeof value.service === 'string' &&
    typeof value.address === 'string' &&
    /:\d{1,5}$/.test(value.address) &&
    Array.isArray(value.models) &&
    value.models.every((m) => typeof m === 'string') &&
    isCount(load?.inFlight) &&
    isCount(load?.queueDepth) &&
    isCount(load?.eventLoopDelayP99Ms);
  return valid ? (value as InstanceRecord) : undefined;
}
