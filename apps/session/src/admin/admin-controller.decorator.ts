import { Controller, UseFilters, UseGuards, UsePipes, applyDecorators } from '@nestjs/common';
import { ApiBearerAuth, ApiSecurity, ApiTags } from '@nestjs/swagger';
import { AdminAuthGuard } from './admin-auth.guard';
import { AdminExceptionFilter, adminValidationPipe } from './admin-errors';

/** Every admin controller: under /admin, authenticated, validated, one error format, documented. */
export function AdminController(path: string, tag: string) {
  return applyDecorators(
    Controller(`admin/${path}`),
    ApiTags(tag),
    ApiBearerAuth(),
    ApiSecurity('api-key'),
    UseGuards(AdminAuthGuard),
    UsePipes(adminValidationPipe),
    UseFilters(AdminExceptionFilter),
  );
}
