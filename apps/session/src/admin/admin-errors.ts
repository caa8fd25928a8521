import { ArgumentsHost, Catch, ExceptionFilter, HttpException, ValidationError, ValidationPipe } from '@nestjs/common';
import { GrpcCallError, GrpcStatus } from '@troupe/grpc';
import type { Response } from 'express';
import { describeValidationErrors } from '../agents/job-handlers';
import { AgentRunError } from '../agents/agent-runs.service';
import { ChatException } from '../chat/chat.exception';

export interface FieldError {
  field: string;
  message: string;
}

/** The one error body of the admin API. */
export interface AdminErrorBody {
  statusCode: number;
  code: string;
  message: string;
  fields: FieldError[];
}

export class AdminHttpError extends HttpException {
  constructor(status: number, code: string, message: string, fields: FieldError[] = []) {
    super({ statusCode: status, code, message, fields } satisfies AdminErrorBody, status);
  }
}

const RUN_ERROR_STATUS: Record<AgentRunError['code'], number> = { UNKNOWN_RUN: 404, UNKNOWN_SCHEDULE: 404, NOT_CANCELLABLE: 409, NOT_RETRYABLE: 409 };
const GRPC_STATUS: Partial<Record<GrpcStatus, [number, string]>> = {
  [GrpcStatus.NOT_FOUND]: [404, 'NOT_FOUND'],
  [GrpcStatus.INVALID_ARGUMENT]: [400, 'INVALID_ARGUMENT'],
  [GrpcStatus.FAILED_PRECONDITION]: [409, 'FAILED_PRECONDITION'],
  [GrpcStatus.ALREADY_EXISTS]: [409, 'ALREADY_EXISTS'],
  [GrpcStatus.UNAVAILABLE]: [503, 'UPSTREAM_UNAVAILABLE'],
  [GrpcStatus.DEADLINE_EXCEEDED]: [503, 'UPSTREAM_UNAVAILABLE'],
  [GrpcStatus.UNIMPLEMENTED]: [501, 'NOT_IMPLEMENTED'],
};

/** Maps every error an admin route can meet to the one body: status, code, message, field errors. */
export function toAdminError(e: unknown): AdminErrorBody {
  if (e instanceof HttpException) {
    const r = e.getResponse() as Partial<AdminErrorBody> | string;
    if (typeof r === 'object' && r.code) return { statusCode: e.getStatus(), code: r.code, message: r.message ?? e.message, fields: r.fields ?? [] };
    return { statusCode: e.getStatus(), code: e.getStatus() === 404 ? 'NOT_FOUND' : 'HTTP_ERROR', message: typeof r === 'string' ? r : e.message, fields: [] };
  }
  if (e instanceof AgentRunError) return { statusCode: RUN_ERROR_STATUS[e.code], code: e.code, message: e.message, fields: [{ field: e.field, message: e.message }] };
  if (e instanceof ChatException) {
    const { code, message, field } = e;
    return { statusCode: code.startsWith('UNKNOWN') ? 404 : 400, code, message, fields: field ? [{ field, message }] : [] };
  }
  if (e instanceof GrpcCallError) {
    const [statusCode, code] = GRPC_STATUS[e.code] ?? [502, 'UPSTREAM_ERROR'];
    return { statusCode, code, message: e.details, fields: [] };
  }
  return { statusCode: 500, code: 'INTERNAL', message: 'internal error', fields: [] };
}

@Catch()
export class AdminExceptionFilter implements ExceptionFilter {
  catch(exception: unknown, host: ArgumentsHost): void {
    const body = toAdminError(exception);
    host.switchToHttp().getResponse<Response>().status(body.statusCode).json(body);
  }
}

/** The admin routes' validation: unknown fields refused, values transformed, errors per field. */
export const adminValidationPipe = new ValidationPipe({
  whitelist: true,
  forbidNonWhitelisted: true,
  transform: true,
  exceptionFactory: (errors: ValidationError[]) => {
    const fields = describeValidationErrors(errors);
    return new AdminHttpError(400, 'INVALID_REQUEST', fields.map((f) => `${f.field}: ${f.message}`).join('; '), fields);
  },
});
