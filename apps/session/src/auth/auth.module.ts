import { Global, Module } from '@nestjs/common';
import { AuthService } from './auth.service';
import { BearerAuthGuard } from './bearer-auth.guard';
import { RateLimiter } from './rate-limiter';

@Global()
@Module({
  providers: [AuthService, RateLimiter, BearerAuthGuard],
  exports: [AuthService, RateLimiter, BearerAuthGuard],
})
export class AuthModule {}
