import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from './service-stack';

/**
 * Writes a `paced` model folder (the benchmark model: no compute, a reply at a set pace) under
 * `root`: the repo's paced manifest with this name, pace and text, without its scripted rules.
 */
export function writePacedModel(root: string, name: string, paceMs: number, text?: string): void {
  const dir = join(root, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(join(REPO_ROOT, 'models', 'tiny-decoder', 'tokenizer.json'), join(dir, 'tokenizer.json'));
  const base = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'paced', 'manifest.json'), 'utf8'));
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ ...base, name, paceMs, rules: [], ...(text ? { text } : {}) }));
}
