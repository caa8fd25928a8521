import { ArgumentsHost, Catch, ExceptionFilter, HttpStatus } from '@nestjs/common';
import type { Response } from 'express';
import { ChatErrorCode } from '@troupe/domain';
import { ChatException } from './chat.exception';

const STATUS: Partial<Record<ChatErrorCode, number>> = {
  INVALID_PAYLOAD: HttpStatus.BAD_REQUEST,
  UNKNOWN_SESSION: HttpStatus.NOT_FOUND,
  UNKNOWN_ROLE: HttpStatus.NOT_FOUND,
  UNKNOWN_APPROVAL: HttpStatus.NOT_FOUND,
  FORBIDDEN: HttpStatus.FORBIDDEN,
  UNAUTHENTICATED: HttpStatus.UNAUTHORIZED,
  RATE_LIMITED: HttpStatus.TOO_MANY_REQUESTS,
  BUSY: HttpStatus.CONFLICT,
};

/** The same errors over REST: status from the code, body `{ statusCode, code, message, field }`. */
@Catch(ChatException)
export class ChatExceptionFilter implements ExceptionFilter {
  catch(exception: ChatException, host: ArgumentsHost): void {
    const status = STATUS[exception.code] ?? HttpStatus.INTERNAL_SERVER_ERROR;
    host
      .switchToHttp()
      .getResponse<Response>()
      .status(status)
      .json({ statusCode: status, code: exception.code, message: exception.message, ...(exception.field ? { field: exception.field } : {}) });
  }
}
