import 'reflect-metadata';
import { plainToInstance } from 'class-transformer';
import { ValidationError, validateSync } from 'class-validator';

/** Thrown at boot when an environment variable is missing or wrong; names every bad variable. */
export class ConfigValidationError extends Error {
  constructor(readonly problems: { variable: string; value: unknown; constraints: string[] }[]) {
    super(
      'Invalid configuration: ' +
        problems
          .map((p) => `${p.variable}=${JSON.stringify(p.value)}: ${p.constraints.join('; ')}`)
          .join(' | '),
    );
    this.name = 'ConfigValidationError';
  }
}

/** Environment values are strings; convert to the type of the default so validators see numbers. */
function coerce(value: string, fallback: unknown): unknown {
  if (typeof fallback === 'number') return /^-?\d+(\.\d+)?$/.test(value.trim()) ? Number(value) : value;
  if (typeof fallback === 'boolean') return value === 'true' ? true : value === 'false' ? false : value;
  return value;
}

/**
 * Reads the environment once into a typed, validated config object. Property names of the
 * config class are the environment variable names, so an error names exactly what to fix.
 * Only the class's own variables are read; unset ones keep the class's defaults.
 */
export function loadConfig<T extends object>(
  configClass: new () => T,
  env: NodeJS.ProcessEnv = process.env,
): T {
  const defaults = new configClass() as Record<string, unknown>;
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(defaults)) {
    const value = env[key];
    raw[key] = value === undefined || value === '' ? defaults[key] : coerce(value, defaults[key]);
  }
  const config = plainToInstance(configClass, raw);
  const errors = validateSync(config, { whitelist: true, forbidUnknownValues: true });
  if (errors.length > 0) {
    throw new ConfigValidationError(
      errors.map((e: ValidationError) => ({
        variable: e.property,
        value: env[e.property] ?? raw[e.property],
        constraints: Object.values(e.constraints ?? {}),
      })),
    );
  }
  return Object.freeze(config);
}
