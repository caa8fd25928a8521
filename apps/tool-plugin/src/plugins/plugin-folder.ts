import Ajv from 'ajv';
import { PLUGIN_MANIFEST_SCHEMA, PluginManifest, TOOL_DECLARATION_SCHEMA } from '@troupe/plugin-sdk';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describeSchemaErrors } from '../tools/tool-registry';

const ajv = new Ajv({ allErrors: true, strict: false });
const validateManifest = ajv.compile<PluginManifest>(PLUGIN_MANIFEST_SCHEMA);
const validateDeclaration = ajv.compile(TOOL_DECLARATION_SCHEMA);

/** Bounds on what a plugin folder may hold, so a mistaken folder cannot flood the service. */
const MAX_FILES = 200;
const MAX_TOTAL_BYTES = 5 * 1024 * 1024;

export interface ToolDeclarationJson {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
  result?: Record<string, unknown>;
  timeoutMs?: number;
  requiresApproval?: boolean;
  hints?: { readOnly?: boolean; destructive?: boolean; idempotent?: boolean; openWorld?: boolean };
}

export interface PluginSource {
  manifest: PluginManifest;
  main: string;
  files: Record<string, string>;
}

export class PluginLoadError extends Error {}

/** Source files of a plugin (.js and .json, skipping node_modules), relative paths → absolute. */
function listFiles(dir: string, base = dir, out: string[] = []): string[] {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || entry.name === 'node_modules') continue;
    const full = join(dir, entry.name);
    if (entry.isDirectory()) listFiles(full, base, out);
    else if (entry.isFile() && /\.(js|json)$/.test(entry.name)) out.push(relative(base, full).split('\\').join('/'));
  }
  return out;
}

/** Changes whenever a file of the plugin is added, removed or rewritten: the watcher compares it. */
export function folderSignature(dir: string): string {
  try {
    return listFiles(dir)
      .sort()
      .map((f) => {
        const s = statSync(join(dir, f));
        return `${f}:${s.size}:${s.mtimeMs}`;
      })
      .join('|');
  } catch {
    return '';
  }
}

/** Reads and validates plugin.json and the plugin's code; errors name the file and field. */
export function readPluginFolder(dir: string): PluginSource {
  let manifest: unknown;
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'plugin.json'), 'utf8'));
  } catch (e) {
    throw new PluginLoadError(`plugin.json: ${(e as Error).message}`);
  }
  if (!validateManifest(manifest)) {
    throw new PluginLoadError(`plugin.json: ${describeSchemaErrors(validateManifest.errors, '(manifest)')}`);
  }
  const paths = listFiles(dir);
  if (paths.length > MAX_FILES) throw new PluginLoadError(`plugin has ${paths.length} files, limit ${MAX_FILES}`);
  const files: Record<string, string> = {};
  let total = 0;
  for (const path of paths) {
    if (path === 'plugin.json') continue;
    files[path] = readFileSync(join(dir, path), 'utf8');
    total += Buffer.byteLength(files[path]);
  }
  if (total > MAX_TOTAL_BYTES) throw new PluginLoadError(`plugin code is ${total} bytes, limit ${MAX_TOTAL_BYTES}`);
  const main = (manifest.main ?? 'index.js').replace(/^\.\//, '');
  if (!(main in files)) throw new PluginLoadError(`plugin.json: main: file "${main}" not found`);
  return { manifest, main, files };
}

/** Checks what the plugin's code declared (it ran in the sandbox, so nothing is trusted). */
export function checkDeclarations(declarations: unknown[]): ToolDeclarationJson[] {
  const names = new Set<string>();
  return declarations.map((d, i) => {
    if (!validateDeclaration(d)) throw new PluginLoadError(`tools[${i}]: ${describeSchemaErrors(validateDeclaration.errors, '(tool)')}`);
    const tool = d as unknown as ToolDeclarationJson;
    if (names.has(tool.name)) throw new PluginLoadError(`tools[${i}]: name "${tool.name}" is declared twice`);
    names.add(tool.name);
    return tool;
  });
}
