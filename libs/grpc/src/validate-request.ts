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

/**
 * validateGrpcRequest for a hot method whose callers send the same request again and again
 * (AssembleContext on every turn of a session): a request already found valid is answered
 * from memory by its JSON, which costs a small fraction of class-validator's time and garbage.
 * Validation depends on nothing but the request, so the remembered answer is the same one.
 * Bounded by entries; the oldest goes first. The DTOs handed out are frozen (shared).
 */
export class ValidatedRequests<T extends object> {
  private readonly valid = new Map<string, T>();

  constructor(
    private readonly dto: new () => T,
    private readonly maxEntries = 4096,
  ) {}

  validate(request: unknown): T {
    const key = JSON.stringify(request ?? {});
    const known = this.valid.get(key);
    if (known) return known;
    const instance = Object.freeze(validateGrpcRequest(this.dto, request));
    if (this.valid.size >= this.maxEntries) this.valid.delete(this.valid.keys().next().value!);
    this.valid.set(key, instance);
    return instance;
  }
}
