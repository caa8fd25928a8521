import { status } from '@grpc/grpc-js';

/**
 * A remote backend's failure with the gRPC status it should reach the client as. Thrown (via
 * a sink's `fail`) by remote model clients; the router reads `code` and `retryAfterMs`.
 */
export class UpstreamError extends Error {
  constructor(
    readonly code: status,
    message: string,
    /** The backend asked to wait this long (HTTP Retry-After) before trying again. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = 'UpstreamError';
  }
}

/** HTTP statuses of an OpenAI-compatible server and the gRPC status each maps to. */
const HTTP_TO_GRPC: Record<number, status> = {
  400: status.INVALID_ARGUMENT,
  401: status.UNAUTHENTICATED,
  403: status.PERMISSION_DENIED,
  404: status.NOT_FOUND,
  408: status.DEADLINE_EXCEEDED,
  413: status.INVALID_ARGUMENT,
  422: status.INVALID_ARGUMENT,
  429: status.RESOURCE_EXHAUSTED,
};

export function grpcStatusForHttp(httpStatus: number): status {
  return HTTP_TO_GRPC[httpStatus] ?? (httpStatus >= 500 ? status.UNAVAILABLE : status.UNKNOWN);
}

/** Retry-After as milliseconds: delta-seconds or an HTTP date (undefined when absent or unreadable). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/** The message of an OpenAI-style error body (`{"error":{"message":…}}`), else the body text. */
export function upstreamMessage(body: string): string {
  try {
    const parsed = JSON.parse(body) as { error?: { message?: unknown } | string; message?: unknown };
    const err = parsed.error;
    if (typeof err === 'string') return err;
    if (typeof err?.message === 'string') return err.message;
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // Not JSON: the text itself is the message.
  }
  return body.trim().slice(0, 500) || '(empty body)';
}

/** An error response of the upstream server as an UpstreamError naming status and message. */
export function upstreamHttpError(httpStatus: number, body: string, retryAfterHeader: string | null): UpstreamError {
  const retryAfterMs = httpStatus === 429 || httpStatus === 503 ? parseRetryAfter(retryAfterHeader) : undefined;
  const wait = retryAfterMs === undefined ? '' : ` (retry after ${Math.ceil(retryAfterMs / 1000)}s)`;
  return new UpstreamError(grpcStatusForHttp(httpStatus), `upstream HTTP ${httpStatus}: ${upstreamMessage(body)}${wait}`, retryAfterMs);
}
