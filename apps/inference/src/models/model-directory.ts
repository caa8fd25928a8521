import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** Folder names a model may live in (also what Load/Unload/Reload accept): no paths. */
export const MODEL_FOLDER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/**
 * What a model folder looks like on disk right now: size and mtime of manifest.json and of the
 * files it names. Two equal fingerprints mean "nothing changed"; a folder without a manifest
 * has none (it is not a model, or it is still being written).
 */
export function fingerprintModelFolder(dir: string): string | undefined {
  const manifestPath = join(dir, 'manifest.json');
  if (!existsSync(manifestPath)) return undefined;
  const parts = [stamp(manifestPath)];
  try {
    const files = (JSON.parse(readFileSync(manifestPath, 'utf8')) as { files?: Record<string, unknown> }).files ?? {};
    for (const f of Object.values(files)) if (typeof f === 'string') parts.push(`${f}:${stamp(join(dir, f))}`);
  } catch {
    // A manifest that does not parse still has a fingerprint; loading it reports the error.
  }
  return parts.join('|');
}

/** Fingerprints of every model folder under `root` (folder name -> fingerprint). */
export function scanModelDirectory(root: string): Map<string, string> {
  const found = new Map<string, string>();
  if (!existsSync(root)) return found;
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (!entry.isDirectory() || !MODEL_FOLDER_PATTERN.test(entry.name)) continue;
    const fp = fingerprintModelFolder(join(root, entry.name));
    if (fp !== undefined) found.set(entry.name, fp);
  }
  return found;
}

function stamp(path: string): string {
  try {
    const s = statSync(path);
    return `${s.size}@${s.mtimeMs}`;
  } catch {
    return 'missing';
  }
}
