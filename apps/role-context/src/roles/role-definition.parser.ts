import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';
import { RoleDefinitionDto } from './dto/role-definition.dto';
import { checkPersonaTemplate } from './persona-template';

export class RoleDefinitionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RoleDefinitionError';
  }
}

function flatten(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((e) => {
    const path = parent ? `${parent}.${e.property}` : e.property;
    const own = Object.values(e.constraints ?? {}).map((c) => `${path}: ${c}`);
    return [...own, ...flatten(e.children ?? [], path)];
  });
}

/** Validates an untrusted role definition; the error names every bad field. */
export function parseRoleDefinition(input: unknown): RoleDefinitionDto {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new RoleDefinitionError('role definition must be a JSON object');
  }
  const dto = plainToInstance(RoleDefinitionDto, input);
  const errors = validateSync(dto, { whitelist: true, forbidNonWhitelisted: true });
  const problems = flatten(errors);
  if (problems.length === 0) problems.push(...checkPersonaTemplate(dto.persona, dto.variables));
  if (problems.length > 0) throw new RoleDefinitionError(problems.join('; '));
  return dto;
}
