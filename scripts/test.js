#!/usr/bin/env node
// `npm test`: contracts drift check, models, build, unit specs, then the end-to-end tests
// (which start the four services as processes against the real Redis).
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { pingRedis } = require('./lib/redis-ping');
const { run, bin, root } = require('./lib/run');

async function main() {
  const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
  if (!(await pingRedis(redisUrl))) {
    console.error(`No Redis answers at ${redisUrl}. Start one (redis-server --port 6379 --save "") or set REDIS_URL.`);
    process.exit(1);
  }
  const extra = process.argv.slice(2);
  await run(process.execPath, ['scripts/proto-gen.js', '--check']);
  // ts-jest only transpiles; the type check of everything (tests included) happens here.
  await run(bin('tsc'), ['-p', 'tsconfig.json', '--noEmit']);
  await run(bin('tsx'), ['scripts/build-models.ts']);
  await run(process.execPath, ['scripts/build.js']);

  const reports = fs.mkdtempSync(path.join(os.tmpdir(), 'troupe-jest-'));
  const totals = { passed: 0, failed: 0, skipped: 0 };
  let failed = false;
  for (const [project, flags] of [
    ['unit', []],
    ['e2e', ['--runInBand']],
  ]) {
    const out = path.join(reports, `${project}.json`);
    try {
      await run(bin('jest'), ['--selectProjects', project, '--ci', '--json', `--outputFile=${out}`, ...flags, ...extra]);
    } catch {
      failed = true;
    }
    if (fs.existsSync(out)) {
      const r = JSON.parse(fs.readFileSync(out, 'utf8'));
      totals.passed += r.numPassedTests;
      totals.failed += r.numFailedTests + (r.numRuntimeErrorTestSuites || 0);
      totals.skipped += r.numPendingTests + r.numTodoTests;
    }
  }
  fs.rmSync(reports, { recursive: true, force: true });
  console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
  if (failed || totals.failed > 0 || totals.passed === 0) process.exit(1);
}

main().catch((e) => {
  console.error(e.message);
  process.exit(1);
});
