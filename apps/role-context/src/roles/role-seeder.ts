import { readFile, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { RoleDefinitionDto } from './dto/role-definition.dto';
import { parseRoleDefinition } from './role-definition.parser';

export interface SeedFileResult {
  file: string;
  definition?: RoleDefinitionDto;
  error?: string;
}

/** Reads and validates every *.json role file in a folder; a bad file is reported, not fatal. */
export async function readRoleFiles(dir: string): Promise<SeedFileResult[]> {
  const folder = resolve(dir);
  const files = (await readdir(folder)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(
    files.map(async (file) => {
      try {
        const definition = parseRoleDefinition(JSON.parse(await readFile(join(folder, file), 'utf8')));
        return { file, definition };
      } catch (e) {
        return { file, error: (e as Error).message };
      }
    }),
  );
}
