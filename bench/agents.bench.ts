/**
 * `npm run bench:agents -- --json`: agent runs end to end (enqueue into BullMQ → result stored
 * by a worker that ran the Director: session, context, generation, history) for a one-turn
 * task, at worker concurrency 1, 16 and 64, against the four services as real processes.
 *
 * `ideal_runs_per_s` is what the model allows at that concurrency, measured in the same run:
 * the same generation (same role, prompt length and token count) called straight over gRPC
 * with that many calls in flight. Both sides use the `paced` benchmark model (no compute, a
 * token every 5 ms), so the gap is the runtime's own cost.
 * `cpu_ms_per_run`: CPU time the worker (session), role-context and inference processes used
 * per run of the measured batch — steadier than the rates on a machine shared with other work.
 * Prints one JSON object on its last line. Needs Redis and dist/ (the npm script builds).
 * `--cpu-prof DIR`: the session, role-context and inference processes write V8 CPU profiles under DIR/<service> when they stop.
 */
import { INFERENCE_CONTRACT, inference } from '@troupe/contracts';
import { GrpcClient } from '@troupe/grpc';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import { cpuMs } from '../test/support/process-cpu';
import { TEST_REDIS_URL } from '../test/support/redis-cleanup';
import { makeRolesDir } from '../test/support/roles-fixture';
import { ServiceStack } from '../test/support/service-stack';

const json = process.argv.includes('--json');
const profileIndex = process.argv.indexOf('--cpu-prof');
const PROFILE_DIR = profileIndex >= 0 ? resolve(process.argv[profileIndex + 1]) : undefined;
const log = (m: string) => process.stderr.write(`${m}\n`);
const LEVELS = [1, 16, 64];
const RUNS: Record<number, number> = { 1: 20, 16: 96, 64: 256 };
/**
 * Unmeasured runs on each level's new worker first. A long-running worker is in steady state;
 * a new one is not: with 4 warm-up runs the worker used 3.6–4.6 ms of CPU per run at 64, with
 * 1,024 1.4 ms, and role-context 1.9 → 0.6 ms (V8 optimizes the per-run path — BullMQ,
 * gRPC, validation, Redis replies — only after thousands of calls). Rates stopped rising at
 * about 1,000–2,000 runs. At concurrency 1 the model's pace bounds the rate, so a few do.
 */
const WARM_UP_RUNS: Record<number, number> = { 1: 16, 16: 1024, 64: 2048 };
const MAX_NEW_TOKENS = 16;
const MODEL = 'paced';
const ROLE = { id: 'bench-agent', name: 'Bench Agent', persona: 'You answer in one short sentence.', model: MODEL, generation: { maxNewTokens: MAX_NEW_TOKENS, temperature: 0, topK: 0, topP: 1 } };
const TASK = 'Say something about queues.';

function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

/** N runs enqueued at once; rate = runs / (last result stored − first enqueue). */
async function measureRuns(stack: ServiceStack, redis: Redis, queue: Queue, concurrency: number, runs: number) {
  const worker = await stack.addSessionInstance({ AGENT_WORKER_CONCURRENCY: String(concurrency) });
  try {
    await runBatch(redis, queue, WARM_UP_RUNS[concurrency]);
    // CPU time per run: steadier than runs/s when other work shares the machine.
    const pids = { session: worker.pid, role_context: stack.pid('role-context')!, inference: stack.pid('inference')! };
    const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
    const { elapsedS, waits } = await runBatch(redis, queue, runs);
    const cpuPerRun = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, round((cpuMs(pid) - cpuBefore[name]) / runs)]));
    waits.sort((a, b) => a - b);
    return { runs_per_s: runs / elapsedS, queue_wait_p50_ms: percentile(waits, 50), queue_wait_p99_ms: percentile(waits, 99), cpu_ms_per_run: cpuPerRun };
  } finally {
    await worker.terminate();
  }
}

async function runBatch(redis: Redis, queue: Queue, runs: number) {
  const ids = Array.from({ length: runs }, () => randomUUID());
  const started = Date.now();
  await queue.addBulk(ids.map((id) => ({ name: 'agent.run', data: { role: ROLE.id, task: TASK }, opts: { jobId: id, attempts: 1 } })));
  const pending = new Set(ids);
  let last = started;
  const deadline = started + 120_000;
  while (pending.size) {
    if (Date.now() > deadline) throw new Error(`${pending.size} runs not done within 120 s`);
    // One pipeline per poll: the rate comes from the stored finishedAt, so polling less often
    // only keeps the measurement from loading the Redis it measures.
    const batch = [...pending];
    const pipeline = redis.pipeline();
    for (const id of batch) pipeline.hmget(`agent-run:${id}`, 'status', 'finishedAt', 'error');
    const statuses = ((await pipeline.exec()) ?? []).map(([, fields]) => fields as (string | null)[]);
    statuses.forEach(([status, finishedAt, error], i) => {
      if (status === 'failed') throw new Error(`run failed: ${error}`);
      if (status === 'completed') {
        pending.delete(batch[i]);
        last = Math.max(last, Number(finishedAt));
      }
    });
    await new Promise((r) => setTimeout(r, 50));
  }
  const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
  const waits = jobs.map((j) => (j?.processedOn ?? 0) - (j?.timestamp ?? 0)).filter((w) => w >= 0);
  return { elapsedS: (last - started) / 1000, waits };
}

/** The same generation straight over gRPC, `concurrency` calls in flight: the rate the model allows. */
async function measureModel(client: GrpcClient, concurrency: number, calls: number): Promise<number> {
  const request: inference.GenerateRequest = {
    requestId: '',
    model: MODEL,
    messages: [
      { role: 'system', name: '', content: ROLE.persona },
      { role: 'user', name: 'agent-runner', content: `Task: ${TASK}` },
    ],
    params: { maxNewTokens: MAX_NEW_TOKENS, temperature: 0, topK: 0, topP: 1, seed: 0, repetitionPenalty: 0, stop: [] },
    priority: 'interactive',
    timeoutMs: 0,
  };
  const one = async () => {
    for await (const _ of client.serverStream('generate', { ...request, requestId: randomUUID() })) void _;
  };
  const batch = async () => {
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < calls) await one();
      }),
    );
    return calls / (Number(process.hrtime.bigint() - started) / 1e9);
  };
  // Warmed up like the runs: the same batch once, unmeasured.
  await batch();
  return batch();
}

async function main() {
  const roles = makeRolesDir({ 'bench-agent.json': ROLE });
  const stack = await ServiceStack.start({
    rolesDir: roles.dir,
    env: { session: { AGENT_WORKER_CONCURRENCY: '0', LOG_LEVEL: 'warn' } },
    ...(PROFILE_DIR
      ? { execArgv: Object.fromEntries((['session', 'role-context', 'inference'] as const).map((s) => [s, ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}/${s}`]])) }
      : {}),
  });
  const redis = new Redis(TEST_REDIS_URL, { keyPrefix: stack.prefix });
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue('agent-runs', { connection, prefix: `${stack.prefix}bull` });
  const client = new GrpcClient(INFERENCE_CONTRACT, stack.grpcAddress('inference'), 60_000);
  const results = [];
  try {
    for (const concurrency of LEVELS) {
      const ideal = await measureModel(client, concurrency, RUNS[concurrency]);
      const measured = await measureRuns(stack, redis, queue, concurrency, RUNS[concurrency]);
      const row = {
        concurrency,
        runs_per_s: round(measured.runs_per_s),
        ideal_runs_per_s: round(ideal),
        ratio: round(measured.runs_per_s / ideal, 3),
        queue_wait_p50_ms: measured.queue_wait_p50_ms,
        queue_wait_p99_ms: measured.queue_wait_p99_ms,
        cpu_ms_per_run: measured.cpu_ms_per_run,
      };
      log(`concurrency ${concurrency}: ${row.runs_per_s} runs/s (model allows ${row.ideal_runs_per_s}/s, ratio ${row.ratio}), queue wait p50 ${row.queue_wait_p50_ms} ms, p99 ${row.queue_wait_p99_ms} ms`);
      results.push(row);
    }
  } finally {
    client.close();
    await queue.close();
    connection.disconnect();
    redis.disconnect();
    await stack.stop();
    roles.remove();
  }
  const out = { model: MODEL, runs: RUNS, max_new_tokens: MAX_NEW_TOKENS, results };
  console.log(json ? JSON.stringify(out) : JSON.stringify(out, null, 2));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
