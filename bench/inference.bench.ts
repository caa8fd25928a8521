/**
 * npm run bench:inference [-- --json]
 *
 * For the shipped tiny-decoder, at 1, 8, 32 and 64 concurrent streams of 64 new tokens each:
 *   (a) service: the inference service as its own process, over gRPC (continuous batching),
 *       measured after one unmeasured run at the same concurrency (steady state);
 *   (b) sequential: the same requests one at a time straight on onnxruntime-node (batch 1);
 *   (c) ceiling: onnxruntime-node in this process at the best batch size <= the concurrency,
 *       fixed batches, no scheduler, no transport, no streaming.
 * Also the service main thread's event-loop delay p99 during each service run, and the CPU time
 * per token of the service's main thread, of its other threads (model workers) and of this
 * bench's gRPC client (Linux /proc; steadier than tokens/s on a shared machine). Prints a table
 * (unless --json) and one JSON object on the last line.
 * `--cpu-prof-dir <dir>` writes a CPU profile of the inference process there (node --cpu-prof).
 *
 * One run of 64 streams lasts about 0.1 s, and on this shared 2-core machine consecutive runs
 * differed by ±15 %; so every figure is the median of ROUNDS runs (BENCH_ROUNDS, default 5):
 * service runs at each concurrency, sequential runs, and in-process runs per batch size (half
 * before the service runs, half after). TTFT percentiles and CPU per token pool all rounds.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { INFERENCE_CONTRACT, inference, tokenDeltaCount } from '@troupe/contracts';
import { GrpcClient } from '@troupe/grpc';
import { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import { encodeChatPrompt } from '../apps/inference/src/runtime/chat-template';
import { CausalLmSession, KvCache } from '../apps/inference/src/runtime/causal-lm.session';
import { argmax } from '../apps/inference/src/runtime/sampling';
import { REPO_ROOT, ServiceStack } from '../test/support/service-stack';

const MODEL = 'tiny-decoder';
const CONCURRENCY = [1, 8, 32, 64];
const NEW_TOKENS = 64;
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 5));
/** prom-client samples the event loop at this resolution (libs/metrics); its histogram includes it. */
const ELD_RESOLUTION_S = 0.02;

const json = process.argv.includes('--json');
const cpuProfDir = process.argv.includes('--cpu-prof-dir') ? process.argv[process.argv.indexOf('--cpu-prof-dir') + 1] : undefined;
const log = (msg: string) => (json ? process.stderr : process.stdout).write(`${msg}\n`);

const userText = (i: number) => `Request ${i}: tell the troupe a short story about a lantern.`;

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (x: number, d = 1) => Math.round(x * 10 ** d) / 10 ** d;
const median = (values: number[]) => percentile(values, 50);

/** `run` ROUNDS times in a row; the runs' results in order. */
async function rounds<T>(run: () => Promise<T>, n = ROUNDS): Promise<T[]> {
  const results: T[] = [];
  for (let i = 0; i < n; i++) results.push(await run());
  return results;
}

/** (a) N concurrent gRPC streams; tokens/s over the wall time, TTFT per stream. */
async function serviceRun(grpc: GrpcClient, n: number, newTokens = NEW_TOKENS): Promise<{ tps: number; ttft: number[]; tokens: number }> {
  const started = performance.now();
  const ttft: number[] = [];
  let tokens = 0;
  await Promise.all(
    Array.from({ length: n }, async (_, i) => {
      const t0 = performance.now();
      let first = true;
      const req: inference.GenerateRequest = {
        requestId: `bench-${n}-${i}`,
        model: MODEL,
        messages: [{ role: 'user', name: '', content: userText(i) }],
        // No stop token either side: every stream makes exactly NEW_TOKENS (checked below).
        params: { maxNewTokens: newTokens, temperature: 0, topK: 0, topP: 0, seed: 0, repetitionPenalty: 0, stop: [] },
        priority: 'interactive',
        timeoutMs: 0,
      };
      for await (const chunk of grpc.serverStream<inference.GenerateRequest, inference.GenerateResponse>('generate', req)) {
        if (!chunk.token) continue;
        if (first) ttft.push(performance.now() - t0);
        first = false;
        tokens += tokenDeltaCount(chunk.token);
      }
    }),
  );
  return { tps: tokens / ((performance.now() - started) / 1000), ttft, tokens };
}

/** CPU ms of a process so far: its main thread and all its threads (Linux /proc; zeros elsewhere). */
function processCpuMs(pid: number | undefined): { main: number; all: number } {
  const ms = (stat: string) => {
    const fields = readFileSync(stat, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, USER_HZ = 100
  };
  if (pid === undefined || !existsSync(`/proc/${pid}/task`)) return { main: 0, all: 0 };
  let all = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`)) all += ms(`/proc/${pid}/task/${tid}/stat`);
  return { main: ms(`/proc/${pid}/task/${pid}/stat`), all };
}

/** CPU µs per token spent by the service's main thread, its other threads, and this client. */
async function withCpuPerToken<T extends { tokens: number }>(pid: number | undefined, run: () => Promise<T>): Promise<T & { cpu: { main: number; workers: number; client: number } }> {
  const before = processCpuMs(pid);
  const client = process.cpuUsage();
  const result = await run();
  const after = processCpuMs(pid);
  const clientUs = process.cpuUsage(client);
  const perToken = (us: number) => round(us / result.tokens, 1);
  return {
    ...result,
    cpu: {
      main: perToken((after.main - before.main) * 1000),
      workers: perToken((after.all - after.main - (before.all - before.main)) * 1000),
      client: perToken(clientUs.user + clientUs.system),
    },
  };
}

async function scrapeEventLoopP99(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('nodejs_eventloop_lag_p99_seconds'));
  const raw = Number(line?.split(' ').pop());
  return Math.max(0, raw - ELD_RESOLUTION_S) * 1000;
}

/** Prefill + (NEW_TOKENS - 1) greedy decode steps for a group of prompts decoded together. */
async function generateGroup(session: CausalLmSession, prompts: number[][]): Promise<number> {
  const caches: KvCache[] = [];
  const last: number[] = [];
  for (const p of prompts) {
    const seq = session.createSequence();
    last.push(argmax(await seq.prefill(p)));
    caches.push(seq.cache);
  }
  for (let step = 1; step < NEW_TOKENS; step++) {
    const logits = await session.decodeBatch(caches, last);
    logits.forEach((l, i) => (last[i] = argmax(l)));
  }
  return prompts.length * NEW_TOKENS;
}

async function inProcessTps(session: CausalLmSession, prompts: number[][], batch: number): Promise<number> {
  const started = performance.now();
  let tokens = 0;
  for (let i = 0; i < prompts.length; i += batch) tokens += await generateGroup(session, prompts.slice(i, i + batch));
  return tokens / ((performance.now() - started) / 1000);
}

async function main(): Promise<void> {
  const modelDir = join(REPO_ROOT, 'models', MODEL);
  if (!existsSync(join(modelDir, 'manifest.json'))) execFileSync(process.execPath, [require.resolve('tsx/cli'), 'scripts/build-models.ts'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (!existsSync(join(REPO_ROOT, 'dist/apps/inference/src/main.js'))) execFileSync(process.execPath, ['scripts/build.js'], { cwd: REPO_ROOT, stdio: 'inherit' });

  const session = await CausalLmSession.load(modelDir);
  const tokenizer = ByteLevelBpeTokenizer.fromFile(join(modelDir, session.manifest.files.tokenizer));
  const prompts = (n: number) => Array.from({ length: n }, (_, i) => encodeChatPrompt(tokenizer, [{ role: 'user', content: userText(i) }]));

  // (c) in-process throughput per batch size on 64 requests, half the rounds before and half
  // after the service runs; the median per batch size counts.
  // Warm-up: one unmeasured pass over every batch size (V8 optimizes the bench's own decode
  // loop, onnxruntime grows its arena), as the service gets its own warm-up below.
  for (const b of [1, 2, 4, 8, 16, 32, 64]) await inProcessTps(session, prompts(64), b);
  const batchSamples = new Map<number, number[]>();
  const measureBatches = async (n: number) => {
    for (let r = 0; r < n; r++) {
      for (const b of [1, 2, 4, 8, 16, 32, 64]) batchSamples.set(b, [...(batchSamples.get(b) ?? []), await inProcessTps(session, prompts(64), b)]);
    }
  };
  await measureBatches(Math.ceil(ROUNDS / 2));

  const stack = await ServiceStack.start({
    services: ['inference'],
    env: { inference: { LOG_LEVEL: 'warn', INFERENCE_MAX_BATCH_SIZE: '64', INFERENCE_STEP_DELAY_MS: '0' } },
    execArgv: cpuProfDir ? { inference: ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] } : undefined,
  });
  const grpc = new GrpcClient(INFERENCE_CONTRACT, stack.grpcAddress('inference'), 120_000);
  const results: { n: number; svc: Awaited<ReturnType<typeof withCpuPerToken<Awaited<ReturnType<typeof serviceRun>>>>>; eld: number; sequential: number; spread: number[] }[] = [];
  try {
    // The service is warmed up as a long-running service is: 512 short requests, then 24 full
    // runs of 64 streams (~1,500 requests, ~100k tokens). Its throughput at 64 streams kept
    // rising over the first ~15 full runs (about 38k → 48k tok/s in one trial): V8 optimizes
    // the per-request path (gRPC stream setup, validation, prompt encoding, worker submit) and
    // the per-token one (worker messages, deltas, gRPC writes) only after thousands of calls.
    for (let i = 0; i < 8; i++) await serviceRun(grpc, 64, 4);
    for (let i = 0; i < 24; i++) await serviceRun(grpc, 64);
    for (const n of CONCURRENCY) {
      // Steady state, as a long-running service sees it: one unmeasured run at this concurrency
      // first (the first batch of a new size grows onnxruntime's arena and meets cold code).
      await serviceRun(grpc, n);
      await scrapeEventLoopP99(stack.httpUrl('inference')); // resets the histogram
      const svc = await withCpuPerToken(stack.pid('inference'), async () => {
        const runs = await rounds(() => serviceRun(grpc, n));
        for (const r of runs) if (r.tokens !== n * NEW_TOKENS) throw new Error(`service made ${r.tokens} tokens, expected ${n * NEW_TOKENS}`);
        return { tps: median(runs.map((r) => r.tps)), ttft: runs.flatMap((r) => r.ttft), tokens: runs.reduce((sum, r) => sum + r.tokens, 0), runsTps: runs.map((r) => r.tps) };
      });
      const eld = await scrapeEventLoopP99(stack.httpUrl('inference'));
      const sequential = median(await rounds(() => inProcessTps(session, prompts(n), 1)));
      results.push({ n, svc, eld, sequential, spread: svc.runsTps });
    }
  } finally {
    grpc.close();
    await stack.stop();
  }
  await measureBatches(Math.floor(ROUNDS / 2));
  await session.release();
  const batchTps = new Map([...batchSamples].map(([b, samples]) => [b, median(samples)]));
  log(`in-process tokens/s by batch size (median of ${ROUNDS}): ${JSON.stringify(Object.fromEntries([...batchTps].map(([b, t]) => [b, round(t)])))}`);
  const rows = results.map(({ n, svc, eld, sequential, spread }) => {
    const ceiling = Math.max(...[...batchTps].filter(([b]) => b <= n).map(([, t]) => t));
    const row = {
      concurrency: n,
      service_tps: round(svc.tps),
      sequential_tps: round(sequential),
      ceiling_tps: round(ceiling),
      service_ttft_p50_ms: round(percentile(svc.ttft, 50), 2),
      service_ttft_p95_ms: round(percentile(svc.ttft, 95), 2),
      event_loop_delay_p99_ms: round(eld, 2),
      service_vs_ceiling: round(svc.tps / ceiling, 3),
      service_vs_sequential: round(svc.tps / sequential, 2),
      service_cpu_us_per_token: svc.cpu,
    };
    log(
      `c=${String(n).padStart(2)}  service ${row.service_tps} tok/s (${row.service_vs_ceiling} of ceiling, ${row.service_vs_sequential}x sequential)  ` +
        `sequential ${row.sequential_tps}  ceiling ${row.ceiling_tps}  ttft p50/p95 ${row.service_ttft_p50_ms}/${row.service_ttft_p95_ms} ms  eld p99 ${row.event_loop_delay_p99_ms} ms  ` +
        `cpu µs/token main ${svc.cpu.main} workers ${svc.cpu.workers} client ${svc.cpu.client}  service runs ${spread.map((t) => Math.round(t)).join(' ')}`,
    );
    return row;
  });
  console.log(JSON.stringify({ model: MODEL, new_tokens: NEW_TOKENS, results: rows }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
