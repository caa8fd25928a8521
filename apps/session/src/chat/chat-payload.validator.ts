import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { ChatException } from './chat.exception';

function firstProblem(errors: ValidationError[], parent = ''): { field: string; message: string } | undefined {
  for (const e of errors) {
    const field = parent ? `${parent}.${e.property}` : e.property;
    const message = Object.values(e.constraints ?? {})[0];
    if (message) return { field, message };
    const nested = firstProblem(e.children ?? [], field);
    if (nested) return nested;
  }
  return undefined;
}

/**
 * Validates one socket payload: it must be a JSON object within the size limit, with exactly
 * the DTO's fields. The error names the field.
 */
export function validateChatPayload<T extends object>(dto: new () => T, payload: unknown, maxBytes: number): T {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new ChatException('INVALID_PAYLOAD', 'payload must be a JSON object', '(payload)');
  }
  const bytes = Buffer.byteLength(JSON.stringify(payload));
  if (bytes > maxBytes) {
    throw new ChatException('PAYLOAD_TOO_LARGE', `payload is ${bytes} bytes, limit ${maxBytes}`, '(payload)');
  }
  const instance = plainToInstance(dto, payload);
  const errors = validateSync(instance, { whitelist: true, forbidNonWhitelisted: true });
  const problem = firstProblem(errors);
  if (problem) throw new ChatException('INVALID_PAYLOAD', problem.message, problem.field);
  return instance;
}
