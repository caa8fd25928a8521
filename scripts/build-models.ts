/**
 * Builds the repository's own small models (no downloads).
 *   npx tsx scripts/build-models.ts [--out models] [--force]
 */
import { resolve } from 'node:path';
import { buildModels } from './models';

function main(argv: string[]): void {
  let out = resolve(__dirname, '..', 'models');
  let force = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--force') force = true;
    else if (a === '--out' && argv[i + 1]) out = resolve(argv[++i]);
    else if (a.startsWith('--out=')) out = resolve(a.slice('--out='.length));
    else {
      console.error(`unknown argument ${a}\nusage: build-models.ts [--out DIR] [--force]`);
      process.exit(2);
    }
  }
  const started = Date.now();
  for (const r of buildModels(out, { force })) {
    console.log(`${r.skipped ? 'up to date' : 'built'}: ${r.dir}`);
  }
  console.log(`done in ${Date.now() - started} ms`);
}

main(process.argv.slice(2));
