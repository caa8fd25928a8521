import { CanActivate, ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import type { Request } from 'express';
import { AuthService } from './auth.service';
import { AuthError } from './token-verifier';

/** REST routes: a valid bearer JWT unless the service runs in anonymous mode. */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  constructor(private readonly auth: AuthService) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.auth.anonymousMode) return true;
    const request = context.switchToHttp().getRequest<Request & { principal?: unknown }>();
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice(7) : undefined;
    try {
      request.principal = await this.auth.authenticate(token, undefined);
      return true;
    } catch (e) {
      throw new UnauthorizedException({ statusCode: 401, code: 'UNAUTHENTICATED', message: e instanceof AuthError ? e.message : 'unauthenticated' });
    }
  }
}
