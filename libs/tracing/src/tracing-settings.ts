/**
 * Which tracing a service runs, decided from the standard OpenTelemetry environment variables
 * (https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/) as the
 * service's validated config read them. Off unless they ask for an exporter.
 */

export const OTLP_PROTOCOLS = ['http/protobuf', 'http/json'] as const;
export type OtlpProtocol = (typeof OTLP_PROTOCOLS)[number];
/** '' is unset; only OTLP exports (a console exporter would break the JSON log lines on stdout). */
export const TRACES_EXPORTERS = ['', 'otlp', 'none'] as const;

/** The OTEL_* variables this runtime reads (BaseServiceConfig carries them). */
export interface OtelEnvironment {
  OTEL_SDK_DISABLED: boolean;
  /** '' (unset): OTLP when an OTLP endpoint is set, else none. */
  OTEL_TRACES_EXPORTER: (typeof TRACES_EXPORTERS)[number];
  OTEL_EXPORTER_OTLP_ENDPOINT: string;
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: string;
  OTEL_EXPORTER_OTLP_PROTOCOL: OtlpProtocol;
  /** '' (unset): OTEL_EXPORTER_OTLP_PROTOCOL. */
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: '' | OtlpProtocol;
  /** '' (unset): the service's own name. */
  OTEL_SERVICE_NAME: string;
  /** key=value,key=value (values percent-encoded), added to the resource. */
  OTEL_RESOURCE_ATTRIBUTES: string;
}

export interface TracingSettings {
  serviceName: string;
  resourceAttributes: Record<string, string>;
  /** Where spans are POSTed (OTLP/HTTP). */
  url: string;
  protocol: OtlpProtocol;
}

/** The OTLP/HTTP default endpoint of the spec (a collector on this host). */
export const DEFAULT_OTLP_ENDPOINT = 'http://localhost:4318';

/** Undefined when tracing stays off (the default): no provider, no exporter, no propagation. */
export function resolveTracingSettings(env: OtelEnvironment, service: string): TracingSettings | undefined {
  if (env.OTEL_SDK_DISABLED) return undefined;
  const endpointSet = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT !== '' || env.OTEL_EXPORTER_OTLP_ENDPOINT !== '';
  const exporter = env.OTEL_TRACES_EXPORTER || (endpointSet ? 'otlp' : 'none');
  if (exporter !== 'otlp') return undefined;
  return {
    serviceName: env.OTEL_SERVICE_NAME || service,
    resourceAttributes: parseResourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES),
    url: otlpTracesUrl(env),
    protocol: env.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL || env.OTEL_EXPORTER_OTLP_PROTOCOL,
  };
}

/** The signal-specific endpoint is used as given; the generic one gets `/v1/traces` appended (spec). */
export function otlpTracesUrl(env: Pick<OtelEnvironment, 'OTEL_EXPORTER_OTLP_ENDPOINT' | 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT'>): string {
  if (env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT) return env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
  return `${(env.OTEL_EXPORTER_OTLP_ENDPOINT || DEFAULT_OTLP_ENDPOINT).replace(/\/+$/, '')}/v1/traces`;
}

/** `OTEL_RESOURCE_ATTRIBUTES`: comma-separated key=value pairs, values percent-decoded; bad pairs are skipped. */
export function parseResourceAttributes(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of raw.split(',')) {
    const at = pair.indexOf('=');
    if (at <= 0) continue;
    const key = pair.slice(0, at).trim();
    try {
      out[key] = decodeURIComponent(pair.slice(at + 1).trim());
    } catch {
      // A malformed escape: the spec says to drop the attribute rather than fail.
    }
  }
  return out;
}
