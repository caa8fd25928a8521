import { Inject, Injectable } from '@nestjs/common';
import { REDIS, Redis } from '@troupe/redis';
import { createHash } from 'node:crypto';
import { AdminActor } from './admin-roles';

export interface AuditEntry {
  id: string;
  at: number;
  actor: string;
  via: string;
  action: string;
  target: string;
  /** sha256 of the JSON of the object before and after the change ("" for none). */
  before: string;
  after: string;
}

export function digest(value: unknown): string {
  return value === undefined || value === null ? '' : createHash('sha256').update(JSON.stringify(value)).digest('hex');
}

/** Every admin change, in a Redis Stream: who, what, on what, before/after digests. */
@Injectable()
export class AuditLog {
  private static readonly KEY = 'admin-audit';
  private static readonly MAX = 100_000;

  constructor(@Inject(REDIS) private readonly redis: Redis) {}

  async record(actor: AdminActor | undefined, action: string, target: string, before: unknown, after: unknown): Promise<void> {
    const at = Date.now();
    await this.redis.xadd(AuditLog.KEY, 'MAXLEN', '~', String(AuditLog.MAX), '*', 'at', String(at), 'actor', actor?.id ?? 'unknown', 'via', actor?.via ?? '', 'action', action, 'target', target, 'before', digest(before), 'after', digest(after));
  }

  /** Newest first. */
  async list(offset: number, limit: number): Promise<AuditEntry[]> {
    const entries = await this.redis.xrevrange(AuditLog.KEY, '+', '-', 'COUNT', offset + limit);
    return entries.slice(offset).map(([id, f]) => {
      const m: Record<string, string> = {};
      for (let i = 0; i < f.length; i += 2) m[f[i]] = f[i + 1];
      return { id, at: Number(m.at), actor: m.actor, via: m.via, action: m.action, target: m.target, before: m.before, after: m.after };
    });
  }
}
