/**
 * npm run bench:inference [-- --json]
 *
 * For the shipped tiny-decoder, at 1, 8, 32 and 64 concurrent streams of 64 new tokens each:
 *   (a) service: the inference service as its own process, over gRPC (continuous batching);
 *   (b) sequential: the same requests one at a time straight on onnxruntime-node (batch 1);
 *   (c) ceiling: the same requests on onnxruntime-node at the best batch size <= the
 *       concurrency, each group prefilled in one padded run and decoded together as the engine
 *       does, with no scheduler, transport or streaming around it.
 * (b) and (c) run in a worker thread of this process (bench/support/in-process-decoder.js), as
 * the service's engine runs in one of its own.
 * Also the service main thread's event-loop delay p99 during its runs, and the CPU time per token
 * of the service's main thread, of its other threads (model workers) and of this bench's gRPC
 * client (Linux /proc; steadier than tokens/s on a shared machine). Prints a table (unless
 * --json) and one JSON object on the last line.
 * `--cpu-prof-dir <dir>` writes a CPU profile of the inference process there (node --cpu-prof).
 *
 * A 64-stream run lasts about 0.1 s, and this shared 2-core machine's speed swings by 2x within
 * seconds (the in-process figure alone went 22k → 55k tok/s between consecutive runs). So the
 * three are measured side by side: each of ROUNDS rounds (BENCH_ROUNDS, default 5) runs the
 * service, then (b) and (c) on the same requests, and the ratios are the medians of the rounds'
 * own ratios; the tokens/s figures are medians over the rounds. Everything is warmed up first,
 * the service as a long-running one is and the in-process loops alike.
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import { INFERENCE_CONTRACT, inference, tokenDeltaCount } from '@troupe/contracts';
import { GrpcClient } from '@troupe/grpc';
import { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import { encodeChatPrompt } from '../apps/inference/src/runtime/chat-template';
import { loadCausalLmManifest } from '../apps/inference/src/runtime/causal-lm-manifest';
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
        streamIntervalMs: 0,
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

/** `run`, and the CPU µs the service's main thread, its other threads and this client spent meanwhile. */
async function withCpu<T>(pid: number | undefined, run: () => Promise<T>): Promise<T & { cpuUs: { main: number; workers: number; client: number } }> {
  const before = processCpuMs(pid);
  const client = process.cpuUsage();
  const result = await run();
  const after = processCpuMs(pid);
  const clientUs = process.cpuUsage(client);
  return {
    ...result,
    cpuUs: {
      main: (after.main - before.main) * 1000,
      workers: (after.all - after.main - (before.all - before.main)) * 1000,
      client: clientUs.user + clientUs.system,
    },
  };
}

async function scrapeEventLoopP99(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith('nodejs_eventloop_lag_p99_seconds'));
  const raw = Number(line?.split(' ').pop());
  return Math.max(0, raw - ELD_RESOLUTION_S) * 1000;
}

/** The in-process loops, in a worker thread of this process (bench/support/in-process-decoder.js). */
class InProcessDecoder {
  private constructor(private readonly worker: Worker) {}

  static async start(modelDir: string): Promise<InProcessDecoder> {
    const worker = new Worker(join(REPO_ROOT, 'bench', 'support', 'in-process-decoder.js'), { workerData: { modelDir, newTokens: NEW_TOKENS, repoRoot: REPO_ROOT } });
    const first = await once(worker, 'message');
    if (first[0].error) throw new Error(`in-process decoder: ${first[0].error}`);
    return new InProcessDecoder(worker);
  }

  /** Tokens/s of `prompts` run in groups of `batch`, the whole set `repeat` times over. */
  async tps(prompts: number[][], batch: number, repeat = 1): Promise<number> {
    this.worker.postMessage({ prompts, batch, repeat });
    const [reply] = (await once(this.worker, 'message')) as [{ tps?: number; error?: string }];
    if (reply.tps === undefined) throw new Error(`in-process decoder: ${reply.error}`);
    return reply.tps;
  }

  close(): Promise<number> {
    return this.worker.terminate();
  }
}

const BATCH_SIZES = [1, 2, 4, 8, 16, 32, 64];

/**
 * (b) and (c) for n requests: tokens/s at batch 1 and at every batch size <= n. Small n repeat
 * their requests to at least 16 (a single 64-token request takes ~10 ms, too short to time).
 */
async function inProcessRound(decoder: InProcessDecoder, prompts: number[][]): Promise<{ sequential: number; byBatch: Map<number, number> }> {
  const repeat = Math.ceil(16 / prompts.length);
  const byBatch = new Map<number, number>();
  for (const b of BATCH_SIZES.filter((b) => b <= prompts.length)) byBatch.set(b, await decoder.tps(prompts, b, repeat));
  return { sequential: byBatch.get(1)!, byBatch };
}

/**
 * The best batch size of a concurrency: the one with the highest median over its rounds. Taking
 * each round's fastest size instead takes the maximum of several noisy figures, which sits above
 * what any one size gives (on this machine by 5–10 % at 64 streams): a ceiling the engine, which
 * runs one configuration, cannot reach by design.
 */
function bestBatchSize(rounds: readonly Map<number, number>[]): number {
  const sizes = [...rounds[0].keys()];
  return sizes.reduce((best, b) => (median(rounds.map((r) => r.get(b)!)) > median(rounds.map((r) => r.get(best)!)) ? b : best));
}

async function main(): Promise<void> {
  const modelDir = join(REPO_ROOT, 'models', MODEL);
  if (!existsSync(join(modelDir, 'manifest.json'))) execFileSync(process.execPath, [require.resolve('tsx/cli'), 'scripts/build-models.ts'], { cwd: REPO_ROOT, stdio: 'inherit' });
  if (!existsSync(join(REPO_ROOT, 'dist/apps/inference/src/main.js'))) execFileSync(process.execPath, ['scripts/build.js'], { cwd: REPO_ROOT, stdio: 'inherit' });

  const decoder = await InProcessDecoder.start(modelDir);
  const tokenizer = ByteLevelBpeTokenizer.fromFile(join(modelDir, loadCausalLmManifest(modelDir).files.tokenizer));
  const prompts = (n: number) => Array.from({ length: n }, (_, i) => encodeChatPrompt(tokenizer, [{ role: 'user', content: userText(i) }]));

  // Warm-up of the in-process loops (V8 optimizes the bench's decode loop, onnxruntime grows its
  // arena): three passes over every batch size. The sequential figure kept rising through a
  // bench that gave it one pass.
  for (let pass = 0; pass < 3; pass++) await inProcessRound(decoder, prompts(64));

  const stack = await ServiceStack.start({
    services: ['inference'],
    env: { inference: { LOG_LEVEL: 'warn', INFERENCE_MAX_BATCH_SIZE: '64', INFERENCE_STEP_DELAY_MS: '0' } },
    execArgv: cpuProfDir ? { inference: ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] } : undefined,
  });
  const grpc = new GrpcClient(INFERENCE_CONTRACT, stack.grpcAddress('inference'), 120_000);
  const rows: Record<string, unknown>[] = [];
  const batchSamples = new Map<number, number[]>();
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
      const rounds: { service: number; sequential: number; byBatch: Map<number, number> }[] = [];
      const ttft: number[] = [];
      const cpu = { main: 0, workers: 0, client: 0, tokens: 0 };
      for (let r = 0; r < ROUNDS; r++) {
        const run = await withCpu(stack.pid('inference'), () => serviceRun(grpc, n));
        if (run.tokens !== n * NEW_TOKENS) throw new Error(`service made ${run.tokens} tokens, expected ${n * NEW_TOKENS}`);
        ttft.push(...run.ttft);
        for (const k of ['main', 'workers', 'client'] as const) cpu[k] += run.cpuUs[k];
        cpu.tokens += run.tokens;
        const local = await inProcessRound(decoder, prompts(n));
        for (const [b, tps] of local.byBatch) batchSamples.set(b, [...(batchSamples.get(b) ?? []), tps]);
        rounds.push({ service: run.tps, sequential: local.sequential, byBatch: local.byBatch });
      }
      const eld = await scrapeEventLoopP99(stack.httpUrl('inference'));
      const best = bestBatchSize(rounds.map((r) => r.byBatch));
      const ceilingOf = (r: (typeof rounds)[number]) => r.byBatch.get(best)!;
      const roundMax = (r: (typeof rounds)[number]) => Math.max(...r.byBatch.values());
      const perToken = (us: number) => round(us / cpu.tokens, 1);
      const row = {
        concurrency: n,
        service_tps: round(median(rounds.map((r) => r.service))),
        sequential_tps: round(median(rounds.map((r) => r.sequential))),
        ceiling_tps: round(median(rounds.map(ceilingOf))),
        ceiling_batch_size: best,
        service_ttft_p50_ms: round(percentile(ttft, 50), 2),
        service_ttft_p95_ms: round(percentile(ttft, 95), 2),
        event_loop_delay_p99_ms: round(eld, 2),
        service_vs_ceiling: round(median(rounds.map((r) => r.service / ceilingOf(r))), 3),
        // The earlier estimator (each round's fastest batch size), kept for comparison with older runs.
        service_vs_round_max: round(median(rounds.map((r) => r.service / roundMax(r))), 3),
        service_vs_sequential: round(median(rounds.map((r) => r.service / r.sequential)), 2),
        service_cpu_us_per_token: { main: perToken(cpu.main), workers: perToken(cpu.workers), client: perToken(cpu.client) },
      };
      log(
        `c=${String(n).padStart(2)}  service ${row.service_tps} tok/s (${row.service_vs_ceiling} of ceiling, ${row.service_vs_sequential}x sequential)  ` +
          `sequential ${row.sequential_tps}  ceiling ${row.ceiling_tps} (batch ${best}; vs each round's fastest size ${row.service_vs_round_max})  ttft p50/p95 ${row.service_ttft_p50_ms}/${row.service_ttft_p95_ms} ms  eld p99 ${row.event_loop_delay_p99_ms} ms  ` +
          `cpu µs/token main ${row.service_cpu_us_per_token.main} workers ${row.service_cpu_us_per_token.workers} client ${row.service_cpu_us_per_token.client}  ` +
          `rounds service/ceiling/sequential ${rounds.map((r) => [r.service, ceilingOf(r), r.sequential].map((t) => Math.round(t)).join('/')).join(' ')}`,
      );
      rows.push(row);
    }
  } finally {
    grpc.close();
    await stack.stop();
  }
  await decoder.close();
  log(`in-process tokens/s by batch size (median over the rounds): ${JSON.stringify(Object.fromEntries([...batchSamples].map(([b, t]) => [b, round(median(t))])))}`);
  console.log(JSON.stringify({ model: MODEL, new_tokens: NEW_TOKENS, results: rows }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
