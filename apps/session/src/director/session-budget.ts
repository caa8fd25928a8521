import { Inject, Injectable } from '@nestjs/common';
import { REDIS, Redis, hincrbyWithExpiry } from '@troupe/redis';
import { SessionConfig } from '../session.config';

/**
 * A session's hourly allowance of generated tokens and tool calls, counted in Redis so every
 * instance charges the same meter — the guard against roles talking to each other forever.
 */
@Injectable()
export class SessionBudget {
  constructor(
    @Inject(REDIS) private readonly redis: Redis,
    private readonly config: SessionConfig,
  ) {}

  /** Adds the usage; returns why the allowance is exhausted, or undefined. */
  async charge(sessionId: string, tokens: number, toolCalls: number): Promise<string | undefined> {
    const hour = Math.floor(Date.now() / 3_600_000);
    const key = `session-budget:${sessionId}:${hour}`;
    const [usedTokens, usedTools] = await hincrbyWithExpiry(this.redis, key, { tokens, tools: toolCalls }, 7200);
    if (usedTokens > this.config.SESSION_TOKENS_PER_HOUR) {
      return `the session generated ${usedTokens} tokens this hour (limit ${this.config.SESSION_TOKENS_PER_HOUR})`;
    }
    if (usedTools > this.config.SESSION_TOOL_CALLS_PER_HOUR) {
      return `the session made ${usedTools} tool calls this hour (limit ${this.config.SESSION_TOOL_CALLS_PER_HOUR})`;
    }
    return undefined;
  }
}
