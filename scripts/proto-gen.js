#!/usr/bin/env node
// Regenerates libs/contracts/src/generated from proto/ (buf + ts-proto, both npm packages).
// `--check` generates into a temp dir and fails when the committed files drifted.
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const committed = path.join(root, 'libs/contracts/src/generated');
const buf = path.join(root, 'node_modules/.bin/buf');

function generate(outDir) {
  const template = fs
    .readFileSync(path.join(root, 'buf.gen.yaml'), 'utf8')
    .replace('out: libs/contracts/src/generated', `out: ${outDir}`);
  execFileSync(buf, ['lint'], { cwd: root, stdio: 'inherit' });
  execFileSync(buf, ['generate', '--template', template], { cwd: root, stdio: 'inherit' });
}

function listFiles(dir, base = dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? listFiles(full, base) : [path.relative(base, full)];
  });
}

if (process.argv.includes('--check')) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-proto-'));
  try {
    generate(tmp);
    const fresh = listFiles(tmp).sort();
    const current = listFiles(committed).sort();
    const drifted = fresh.filter(
      (f) => !current.includes(f) || fs.readFileSync(path.join(tmp, f), 'utf8') !== fs.readFileSync(path.join(committed, f), 'utf8'),
    );
    const stale = current.filter((f) => !fresh.includes(f));
    if (drifted.length || stale.length) {
      console.error(`contracts drifted from proto/: ${[...drifted, ...stale].join(', ')}; run npm run proto:gen`);
      process.exit(1);
    }
    console.log('contracts match proto/');
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
} else {
  fs.rmSync(committed, { recursive: true, force: true });
  generate(path.relative(root, committed));
  console.log(`generated ${listFiles(committed).length} files into ${path.relative(root, committed)}`);
}
