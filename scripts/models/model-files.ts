import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const sha256 = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/**
 * Writes a model directory: model.onnx, tokenizer.json, then manifest.json last (a directory
 * with a manifest is complete: the model watcher keys on it). Each file write-then-rename.
 */
export function writeModelDir(dir: string, model: Uint8Array, tokenizerText: string, manifest: object): void {
  mkdirSync(dir, { recursive: true });
  writeAtomic(join(dir, 'model.onnx'), model);
  writeAtomic(join(dir, 'tokenizer.json'), tokenizerText);
  writeAtomic(join(dir, 'manifest.json'), JSON.stringify(manifest, null, 2) + '\n');
}

/** Current = manifest from this generator revision and files matching its hashes. */
export function isCurrentBuild(dir: string, generator: string, revision: number): boolean {
  try {
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    if (m.generator?.name !== generator || m.generator.revision !== revision) return false;
    return (['model', 'tokenizer'] as const).every((k) => {
      const file = join(dir, m.files[k]);
      return existsSync(file) && m.sha256?.[k] === sha256(readFileSync(file));
    });
  } catch {
    return false;
  }
}

function writeAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}
