import { readFileSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';

export const MANIFEST_FILE = 'manifest.json';

/** A manifest field that is missing or wrong, named in the message. */
export class ManifestError extends Error {
  constructor(
    readonly kind: string,
    readonly field: string,
    problem: string,
  ) {
    super(`invalid ${kind} manifest: "${field}" ${problem}`);
    this.name = 'ManifestError';
  }
}

export type Obj = Record<string, unknown>;

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Field readers shared by the manifest kinds; each throws the kind's error naming the field. */
export function manifestFields(fail: (field: string, problem: string) => Error) {
  const str = (o: Obj, field: string, path = field): string => {
    const v = o[field];
    if (typeof v !== 'string' || v.length === 0) throw fail(path, 'must be a non-empty string');
    return v;
  };
  const posInt = (o: Obj, field: string, fallback?: number): number => {
    const v = o[field] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw fail(field, 'must be a positive integer');
    return v;
  };
  const strList = (o: Obj, field: string): string[] => {
    const v = o[field];
    if (!Array.isArray(v) || v.length === 0 || !v.every((x) => typeof x === 'string' && x.length > 0)) {
      throw fail(field, 'must be a non-empty array of strings');
    }
    return [...(v as string[])];
  };
  /** Model files must stay inside the model directory. */
  const relFile = (o: Obj, field: string): string => {
    const v = str(o, field, `files.${field}`);
    const n = normalize(v);
    if (isAbsolute(v) || n === '..' || n.startsWith(`..${sep}`)) throw fail(`files.${field}`, 'must be a relative path inside the model directory');
    return v;
  };
  return { str, posInt, strList, relFile };
}

/** Reads `<modelDir>/manifest.json` as JSON, with clear errors for a missing or unparsable file. */
export function readManifestJson(modelDir: string): { file: string; json: unknown } {
  const file = join(modelDir, MANIFEST_FILE);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(code === 'ENOENT' ? `model directory ${modelDir} has no ${MANIFEST_FILE}` : `cannot read ${file}: ${(err as Error).message}`);
  }
  try {
    return { file, json: JSON.parse(text) };
  } catch (err) {
    throw new Error(`${file} is not valid JSON: ${(err as Error).message}`);
  }
}

/** The `kind` of a model directory's manifest (to pick its runtime), or an error naming the problem. */
export function readManifestKind(modelDir: string): string {
  const { file, json } = readManifestJson(modelDir);
  if (!isObj(json) || typeof json.kind !== 'string') throw new Error(`${file}: invalid manifest: "kind" must be a string`);
  return json.kind;
}
