import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { randomUUID } from 'node:crypto';
import { SessionConfig } from '../session.config';
import { Principal } from './principal';
import { AuthError, TokenVerifier } from './token-verifier';

const DISPLAY_NAME = /^[\p{L}\p{N} _.-]{1,40}$/u;

/**
 * Authenticates sockets and REST calls with JWTs when a secret or JWKS URL is configured;
 * otherwise runs in anonymous mode (local use), and says so at start-up.
 */
@Injectable()
export class AuthService implements OnModuleInit {
  private readonly verifier?: TokenVerifier;

  constructor(
    config: SessionConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    if (config.AUTH_JWT_SECRET || config.AUTH_JWKS_URL) {
      this.verifier = new TokenVerifier({
        secret: config.AUTH_JWT_SECRET || undefined,
        jwksUrl: config.AUTH_JWKS_URL || undefined,
        issuer: config.AUTH_JWT_ISSUER || undefined,
        audience: config.AUTH_JWT_AUDIENCE || undefined,
      });
    }
  }

  get anonymousMode(): boolean {
    return !this.verifier;
  }

  onModuleInit(): void {
    if (this.anonymousMode) {
      this.logger.warn(
        'anonymous mode: no AUTH_JWT_SECRET or AUTH_JWKS_URL is set, so anyone who can reach this service may chat and join any session',
      );
    }
  }

  /** The principal behind a bearer token; in anonymous mode anyone, named as they ask. */
  async authenticate(token: string | undefined, requestedName: unknown): Promise<Principal> {
    if (!this.verifier) {
      const name = typeof requestedName === 'string' && DISPLAY_NAME.test(requestedName) ? requestedName : 'guest';
      return { userId: `anon-${randomUUID()}`, name, roles: [], anonymous: true };
    }
    if (!token) throw new AuthError('a bearer token is required');
    return this.verifier.verify(token);
  }
}
