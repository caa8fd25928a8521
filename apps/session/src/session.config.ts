import { IsInt, IsString, Matches, Max, MaxLength, Min, MinLength, ValidateIf } from 'class-validator';
import { BaseServiceConfig } from '@troupe/config';

const HOST_PORT = /^[A-Za-z0-9.\-_[\]:]+:\d{1,5}$/;

export class SessionConfig extends BaseServiceConfig {
  /** REST, the web chat page, Socket.IO, /health and /metrics. */
  @IsInt()
  @Min(1)
  @Max(65535)
  SESSION_HTTP_PORT = 3000;

  @Matches(HOST_PORT, { message: 'must be host:port' })
  ROLE_CONTEXT_ADDRESS = '127.0.0.1:50051';

  @Matches(HOST_PORT, { message: 'must be host:port' })
  TOOL_PLUGIN_ADDRESS = '127.0.0.1:50052';

  @Matches(HOST_PORT, { message: 'must be host:port' })
  INFERENCE_ADDRESS = '127.0.0.1:50053';

  /** Deadline of request/response gRPC calls. */
  @IsInt()
  @Min(50)
  @Max(600_000)
  GRPC_DEADLINE_MS = 5_000;

  /** Deadline of one streamed generation. */
  @IsInt()
  @Min(100)
  @Max(3_600_000)
  GENERATION_DEADLINE_MS = 120_000;

  /** Largest socket event payload accepted, in bytes of JSON; bigger ones get PAYLOAD_TOO_LARGE. */
  @IsInt()
  @Min(256)
  @Max(16 * 1024 * 1024)
  MAX_EVENT_BYTES = 32 * 1024;

  /** Roles in one session. */
  @IsInt()
  @Min(1)
  @Max(64)
  MAX_ROLES_PER_SESSION = 8;

  /** Seconds a session lives in Redis after its last activity. */
  @IsInt()
  @Min(60)
  SESSION_TTL_SECONDS = 7 * 24 * 3600;

  /** Events kept per session for replay after a reconnect (older ones are trimmed). */
  @IsInt()
  @Min(100)
  @Max(10_000_000)
  EVENT_LOG_MAX_EVENTS = 10_000;

  /**
   * Longest a role's token waits to go out with that reply's next tokens (ms). A reply's first
   * token, and every other event, go at once. Each reply.token costs an append and a delivery
   * to every client whatever it carries, so a few tokens per event let one instance stream to
   * many more people; 0 sends each token on its own when nothing else holds it back.
   */
  @IsInt()
  @Min(0)
  @Max(1000)
  TOKEN_STREAM_INTERVAL_MS = 50;

  /**
   * How far the token interval stretches while the process is busy (ms): when its event loop
   * stays over 80 % utilized, tokens are merged into fewer, larger events, up to this interval,
   * and the interval returns to TOKEN_STREAM_INTERVAL_MS once the load goes. Not above
   * TOKEN_STREAM_INTERVAL_MS: the interval never stretches.
   */
  @IsInt()
  @Min(0)
  @Max(5000)
  TOKEN_STREAM_INTERVAL_MAX_MS = 200;

  /**
   * Events waiting in memory for one client; past it the client is held back and caught up
   * from the event log once it drains (see SLOW_CLIENT_TIMEOUT_MS).
   */
  @IsInt()
  @Min(10)
  @Max(1_000_000)
  MAX_PENDING_PACKETS = 2_000;

  /** How long a client over MAX_PENDING_PACKETS may take to drain before it is disconnected. */
  @IsInt()
  @Min(100)
  @Max(600_000)
  SLOW_CLIENT_TIMEOUT_MS = 10_000;

  /** Tokens all roles of one session may generate per hour (a guard against runaway role chatter). */
  @IsInt()
  @Min(1)
  SESSION_TOKENS_PER_HOUR = 200_000;

  /** Tool calls one session may make per hour. */
  @IsInt()
  @Min(1)
  SESSION_TOOL_CALLS_PER_HOUR = 500;

  /** HS256 secret for JWTs on the socket handshake and REST; with no secret and no JWKS URL the service runs in anonymous mode. */
  @ValidateIf((c: SessionConfig) => c.AUTH_JWT_SECRET !== '')
  @IsString()
  @MinLength(32, { message: 'AUTH_JWT_SECRET must be at least 32 characters' })
  AUTH_JWT_SECRET = '';

  /** JSON Web Key Set URL of an identity provider (RS256/ES256 tokens). */
  @ValidateIf((c: SessionConfig) => c.AUTH_JWKS_URL !== '')
  @Matches(/^https?:\/\/\S+$/, { message: 'AUTH_JWKS_URL must be an http(s) URL' })
  AUTH_JWKS_URL = '';

  /** Expected `iss` of tokens (empty: not checked). */
  @IsString()
  @MaxLength(500)
  AUTH_JWT_ISSUER = '';

  /** Expected `aud` of tokens (empty: not checked). */
  @IsString()
  @MaxLength(500)
  AUTH_JWT_AUDIENCE = '';

  /** Messages one person may send per minute (across instances). */
  @IsInt()
  @Min(1)
  @Max(100_000)
  RATE_LIMIT_MESSAGES_PER_MINUTE = 60;

  /** How long a tool call waits for a person's approval before it counts as refused. */
  @IsInt()
  @Min(1000)
  @Max(24 * 3600 * 1000)
  APPROVAL_TIMEOUT_MS = 10 * 60 * 1000;

  /**
   * How long a session's director lease lasts without renewal: when the instance directing a
   * session dies, another takes it over after at most this long.
   */
  @IsInt()
  @Min(500)
  @Max(600_000)
  DIRECTOR_LEASE_MS = 10_000;

  /** Allowed CORS origin of the chat socket ("*" for any). */
  @IsString()
  @MinLength(1)
  CHAT_CORS_ORIGIN = '*';

  /** Agent runs this instance works on at once; 0 makes it a producer only (admin API, schedules). */
  @IsInt()
  @Min(0)
  @Max(1024)
  AGENT_WORKER_CONCURRENCY = 8;

  /** How long a worker holds a run without renewing its lock; a dead worker's run is taken up again after this. */
  @IsInt()
  @Min(500)
  @Max(3_600_000)
  AGENT_LOCK_MS = 30_000;

  /** How often workers look for runs whose worker died (stalled jobs). */
  @IsInt()
  @Min(500)
  @Max(3_600_000)
  AGENT_STALLED_INTERVAL_MS = 15_000;

  /** Times a run may stall (its worker died) before it counts as failed. */
  @IsInt()
  @Min(0)
  @Max(100)
  AGENT_MAX_STALLED = 2;

  /** Attempts of a run whose job does not say (exponential backoff between them). */
  @IsInt()
  @Min(1)
  @Max(20)
  AGENT_DEFAULT_ATTEMPTS = 3;

  /** Seconds run records, results and idempotency keys are kept. */
  @IsInt()
  @Min(60)
  AGENT_RUN_RETENTION_SECONDS = 7 * 24 * 3600;

  /** HMAC-SHA256 key signing webhook POSTs (X-Troupe-Signature); empty: webhooks are sent unsigned. */
  @IsString()
  @MaxLength(500)
  AGENT_WEBHOOK_SECRET = '';

  /** Attempts of one webhook POST (exponential backoff from 1 s). */
  @IsInt()
  @Min(1)
  @Max(20)
  AGENT_WEBHOOK_ATTEMPTS = 5;

  /** Admin API keys: comma-separated `name:role:key` (role admin, operator or viewer; key at least 24 characters). */
  @Matches(/^$|^[\w.-]+:(admin|operator|viewer):[^,:\s]{24,}(,[\w.-]+:(admin|operator|viewer):[^,:\s]{24,})*$/, {
    message: 'ADMIN_API_KEYS must be comma-separated name:role:key entries (role admin|operator|viewer, key of 24+ characters)',
  })
  ADMIN_API_KEYS = '';
}
