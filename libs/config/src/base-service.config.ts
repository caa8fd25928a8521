import { IsBoolean, IsIn, IsInt, IsNotEmpty, IsString, IsUrl, Matches, Max, Min, Validate, ValidateIf, ValidationArguments, ValidatorConstraint, ValidatorConstraintInterface } from 'class-validator';
import { BALANCING_POLICIES, BalancingPolicy, DISCOVERY_MODES, DiscoveryEnvironment, DiscoveryMode } from '@troupe/discovery';
import { OTLP_PROTOCOLS, OtelEnvironment, OtlpProtocol, TRACES_EXPORTERS } from '@troupe/tracing';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A record must outlive at least two heartbeats, or one late heartbeat drops a live instance. */
@ValidatorConstraint({ name: 'ttlCoversHeartbeats' })
class TtlCoversHeartbeats implements ValidatorConstraintInterface {
  validate(ttl: unknown, args: ValidationArguments): boolean {
    return typeof ttl === 'number' && ttl >= 2 * (args.object as BaseServiceConfig).DISCOVERY_HEARTBEAT_MS;
  }
  defaultMessage(): string {
    return 'must be at least twice DISCOVERY_HEARTBEAT_MS';
  }
}

/** Settings every service shares. Each app's config class extends this one. */
export class BaseServiceConfig implements OtelEnvironment, DiscoveryEnvironment {
  @Matches(/^rediss?:\/\/[^\s]+$/, { message: 'must be a redis:// or rediss:// URL' })
  REDIS_URL = 'redis://127.0.0.1:6379';

  /** Every Redis key this deployment writes starts with it, so tests and tenants never collide. */
  @IsString()
  @Matches(/^[A-Za-z0-9:_-]+$/, { message: 'may hold only letters, digits, ":", "_" and "-"' })
  REDIS_KEY_PREFIX = 'troupe:';

  @IsIn(LOG_LEVELS)
  LOG_LEVEL: LogLevel = 'info';

  /** How long SIGTERM waits for in-flight calls before closing anyway. */
  @IsInt()
  @Min(0)
  @Max(600_000)
  SHUTDOWN_TIMEOUT_MS = 10_000;

  /** Bind address for every listener of the service. */
  @IsString()
  @IsNotEmpty()
  BIND_HOST = '0.0.0.0';

  // Service registry and balancing (docs/discovery.md).

  /** static: peers at their *_ADDRESS settings; redis: instances announce themselves and clients balance over them. */
  @IsIn(DISCOVERY_MODES, { message: `must be one of ${DISCOVERY_MODES.join(', ')}` })
  DISCOVERY: DiscoveryMode = 'static';

  /** How a client picks among a peer's instances (DISCOVERY=redis). */
  @IsIn(BALANCING_POLICIES, { message: `must be one of ${BALANCING_POLICIES.join(', ')}` })
  BALANCING: BalancingPolicy = 'load-aware';

  /** How often an instance renews its record and clients re-read the registry. */
  @IsInt()
  @Min(50)
  @Max(60_000)
  DISCOVERY_HEARTBEAT_MS = 1_000;

  /** How long a record lives without a heartbeat: a crashed instance drops out after this. */
  @IsInt()
  @Min(100)
  @Max(600_000)
  @Validate(TtlCoversHeartbeats)
  DISCOVERY_TTL_MS = 3_000;

  /** How long an instance that failed a call with UNAVAILABLE gets no calls from a client. */
  @IsInt()
  @Min(0)
  @Max(600_000)
  DISCOVERY_COOLDOWN_MS = 5_000;

  /** host:port other services reach this instance's gRPC server at; empty: the bind host (or this host's address for 0.0.0.0) and the gRPC port. */
  @Matches(/^$|^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/, { message: 'must be host:port' })
  ADVERTISE_ADDRESS = '';

  // OpenTelemetry tracing: the standard variables, off unless they ask for an exporter.

  /** true: no tracing at all, whatever else is set. */
  @IsBoolean({ message: 'must be true or false' })
  OTEL_SDK_DISABLED = false;

  /** otlp | none; unset: otlp when an OTLP endpoint is set, otherwise none. */
  @IsIn(TRACES_EXPORTERS, { message: 'must be otlp or none (only OTLP exporting is supported)' })
  OTEL_TRACES_EXPORTER: (typeof TRACES_EXPORTERS)[number] = '';

  /** Base URL of an OTLP/HTTP collector; spans go to <it>/v1/traces. */
  @ValidateIf((c: BaseServiceConfig) => c.OTEL_EXPORTER_OTLP_ENDPOINT !== '')
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'must be an http(s) URL' })
  OTEL_EXPORTER_OTLP_ENDPOINT = '';

  /** Full URL spans are POSTed to (overrides OTEL_EXPORTER_OTLP_ENDPOINT for traces). */
  @ValidateIf((c: BaseServiceConfig) => c.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== '')
  @IsUrl({ require_tld: false, protocols: ['http', 'https'], require_protocol: true }, { message: 'must be an http(s) URL' })
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT = '';

  @IsIn(OTLP_PROTOCOLS, { message: `must be one of ${OTLP_PROTOCOLS.join(', ')} (grpc is not supported)` })
  OTEL_EXPORTER_OTLP_PROTOCOL: OtlpProtocol = 'http/protobuf';

  @IsIn(['', ...OTLP_PROTOCOLS], { message: `must be one of ${OTLP_PROTOCOLS.join(', ')} (grpc is not supported)` })
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '' | OtlpProtocol = '';

  /** service.name of the spans; unset: the service's own name (session, inference, ...). */
  @IsString()
  OTEL_SERVICE_NAME = '';

  /** Extra resource attributes: key=value,key=value. */
  @IsString()
  OTEL_RESOURCE_ATTRIBUTES = '';
}
