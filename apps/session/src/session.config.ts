import { IsInt, IsString, Matches, Max, Min, MinLength } from 'class-validator';
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

  /** Allowed CORS origin of the chat socket ("*" for any). */
  @IsString()
  @MinLength(1)
  CHAT_CORS_ORIGIN = '*';
}
