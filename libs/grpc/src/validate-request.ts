import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { invalidArgument } from './grpc-errors';

function describe(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    return [...Object.values(e.constraints ?? {}).map((c) => `${path}: ${c}`), ...describe(e.children ?? [], path)];
  });
}

/** Validates a decoded gRPC request with a class-validator DTO; answers INVALID_ARGUMENT naming the field. */
export function validateGrpcRequest<T extends object>(dto: new () => T, request: unknown): T {
  const instance = plainToInstance(dto, request ?? {});
  const errors = validateSync(instance, { whitelist: true });
  if (errors.length > 0) {
    const [first, ...rest] = describe(errors);
    const [field, ...problem] = first.split(': ');
    throw invalidArgument(field, problem.join(': ') + (rest.length ? `; ${rest.join('; ')}` : ''));
  }
  return instance;
}
