/**
 * `npm run bench:balance -- --json [--slowdown 20] [--clients 16] [--requests 1200] [--tokens 16] [--pace 2]`
 *
 * Load-aware balancing against plain round-robin, same run: two inference instances found in
 * the service registry (DISCOVERY=redis), both serving a `paced` model named "bench" (no
 * compute, a token every `--pace` ms), one of them `--slowdown` times slower. A fixed number of
 * concurrent clients send `--requests` generations of `--tokens` tokens through the balanced
 * pool session's PeersModule uses, first with BALANCING=round-robin, then load-aware (a fresh
 * pool each, after the same warm-up). Prints progress on stderr and one JSON object on the last
 * line: {"round_robin_p99_ms","load_aware_p99_ms","ratio", ...}. Needs Redis and dist/.
 */
import { BalancingPolicy } from '@troupe/discovery';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateThrough, openInferencePool } from '../test/support/inference-pool';
import { writePacedModel } from '../test/support/paced-model';
import { ServiceStack } from '../test/support/service-stack';
import { timeCalls } from './support/timed-calls';
import { printSummary } from './support/print-summary';

const argValue = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const SLOWDOWN = argValue('--slowdown', 20);
const CLIENTS = argValue('--clients', 16);
const REQUESTS = argValue('--requests', 1200);
const TOKENS = argValue('--tokens', 16);
const PACE_MS = argValue('--pace', 2);
const log = (m: string) => process.stderr.write(`${m}\n`);
const round = (x: number) => Math.round(x * 10) / 10;
const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];

interface PolicyResult {
  p50_ms: number;
  p99_ms: number;
  /** Share of the requests the slowed instance answered. */
  slow_share: number;
  requests_per_s: number;
}

async function run(prefix: string, balancing: BalancingPolicy): Promise<PolicyResult> {
  const pool = openInferencePool(prefix, balancing);
  let slow = 0;
  const call = async () => {
    const reply = await generateThrough(pool, 'bench', TOKENS);
    if (reply.error) throw reply.error;
    if (reply.text.startsWith('s')) slow++;
  };
  try {
    await pool.waitForReady(10_000);
    await timeCalls(CLIENTS, CLIENTS * 2, call);
    slow = 0;
    const { latencies, seconds } = await timeCalls(CLIENTS, REQUESTS, call);
    latencies.sort((a, b) => a - b);
    return { p50_ms: round(percentile(latencies, 0.5)), p99_ms: round(percentile(latencies, 0.99)), slow_share: Math.round((slow / REQUESTS) * 1000) / 1000, requests_per_s: Math.round(REQUESTS / seconds) };
  } finally {
    pool.closeAll();
  }
}

async function main(): Promise<void> {
  const fastModels = mkdtempSync(join(tmpdir(), 'troupe-bench-fast-'));
  const slowModels = mkdtempSync(join(tmpdir(), 'troupe-bench-slow-'));
  // The reply's first letter tells which instance wrote it.
  writePacedModel(fastModels, 'bench', PACE_MS, 'fast ');
  writePacedModel(slowModels, 'bench', PACE_MS * SLOWDOWN, 'slow ');
  const discovery = { DISCOVERY: 'redis', LOG_LEVEL: 'warn' };
  log(`two inference instances, one ${SLOWDOWN}× slower (${PACE_MS} vs ${PACE_MS * SLOWDOWN} ms a token); ${CLIENTS} clients, ${REQUESTS} requests of ${TOKENS} tokens each`);
  const stack = await ServiceStack.start({ services: ['inference'], env: { inference: { ...discovery, MODELS_DIR: fastModels } } });
  try {
    await stack.addInstance('inference', { ...discovery, MODELS_DIR: slowModels });
    const roundRobin = await run(stack.prefix, 'round-robin');
    log(`round-robin: ${JSON.stringify(roundRobin)}`);
    const loadAware = await run(stack.prefix, 'load-aware');
    log(`load-aware:  ${JSON.stringify(loadAware)}`);
    const summary = {
      round_robin_p99_ms: roundRobin.p99_ms,
      load_aware_p99_ms: loadAware.p99_ms,
      ratio: Math.round((loadAware.p99_ms / roundRobin.p99_ms) * 1000) / 1000,
      slowdown: SLOWDOWN,
      clients: CLIENTS,
      requests: REQUESTS,
      tokens: TOKENS,
      round_robin: roundRobin,
      load_aware: loadAware,
    };
    printSummary(summary);
  } finally {
    await stack.stop();
    rmSync(fastModels, { recursive: true, force: true });
    rmSync(slowModels, { recursive: true, force: true });
  }
}

main().catch((e) => {
  log((e as Error).stack ?? String(e));
  process.exit(1);
});
