import { CanActivate, ExecutionContext, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { timingSafeEqual } from 'node:crypto';
import type { Request } from 'express';
import { AuthService } from '../auth/auth.service';
import { SessionConfig } from '../session.config';
import { AdminHttpError } from './admin-errors';
import { ADMIN_ROLE_KEY, AdminActor, AdminRole, parseApiKeys, roleAllows } from './admin-roles';

export type AdminRequest = Request & { actor?: AdminActor };

/**
 * Admin routes: an API key (`X-API-Key`) or a bearer JWT whose `roles` include one that the
 * route's @RequireRole allows. With neither keys nor JWT configured, the service is in anonymous
 * mode and lets every caller in as admin (local use), saying so at start-up.
 */
@Injectable()
export class AdminAuthGuard implements CanActivate, OnModuleInit {
  private readonly apiKeys: Map<string, AdminActor>;

  constructor(
    private readonly auth: AuthService,
    private readonly reflector: Reflector,
    config: SessionConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.apiKeys = parseApiKeys(config.ADMIN_API_KEYS);
  }

  get open(): boolean {
    return this.auth.anonymousMode && this.apiKeys.size === 0;
  }

  onModuleInit(): void {
    if (this.open) this.logger.warn('admin API open: no ADMIN_API_KEYS and no JWT configured, so anyone who can reach /admin is an admin');
  }

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const needed = this.reflector.getAllAndOverride<AdminRole>(ADMIN_ROLE_KEY, [context.getHandler(), context.getClass()]) ?? 'admin';
    const request = context.switchToHttp().getRequest<AdminRequest>();
    request.actor = await this.identify(request);
    if (!roleAllows(request.actor.roles, needed)) {
      throw new AdminHttpError(403, 'FORBIDDEN', `this needs the ${needed} role; ${request.actor.id} has ${request.actor.roles.join(', ') || 'none'}`);
    }
    return true;
  }

  /** The caller behind the request's credentials (used by the queue dashboard too). */
  async identify(request: Request): Promise<AdminActor> {
    if (this.open) return { id: 'anonymous', via: 'anonymous', roles: ['admin'] };
    const key = request.headers['x-api-key'];
    if (typeof key === 'string' && key) {
      for (const [known, actor] of this.apiKeys) {
        if (known.length === key.length && timingSafeEqual(Buffer.from(known), Buffer.from(key))) return actor;
      }
      throw new AdminHttpError(401, 'UNAUTHENTICATED', 'unknown API key');
    }
    const header = request.headers.authorization ?? '';
    if (!this.auth.anonymousMode && header.startsWith('Bearer ')) {
      try {
        const principal = await this.auth.authenticate(header.slice(7), undefined);
        return { id: `user:${principal.userId}`, via: 'jwt', roles: principal.roles };
      } catch (e) {
        throw new AdminHttpError(401, 'UNAUTHENTICATED', (e as Error).message);
      }
    }
    throw new AdminHttpError(401, 'UNAUTHENTICATED', 'an X-API-Key header or a bearer token is required');
  }
}
