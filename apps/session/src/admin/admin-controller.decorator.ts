import { Controller, UseFilters, UseGuards, UseInterceptors, UsePipes, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AdminAuthGuard } from './admin-auth.guard';
import { AdminExceptionFilter, adminValidationPipe } from './admin-errors';
import { AdminTracingInterceptor } from './admin-tracing.interceptor';

/** Every admin controller: under /admin, authenticated, validated, traced, one error format, documented. */
export function AdminController(path: string, tag: string) {
  return applyDecorators(
    Controller(`admin/${path}`),
    ApiTags(tag),
    ApiBearerAuth(),
    ApiSecurity('api-key'),
    UseGuards(AdminAuthGuard),
    UsePipes(adminValidationPipe),
    UseInterceptors(AdminTracingInterceptor),
    UseFilters(AdminExceptionFilter),
  );
}
