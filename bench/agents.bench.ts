/**
 * `npm run bench:agents -- --json`: agent runs end to end (enqueue into BullMQ → result stored
 * by a worker that ran the Director: session, context, generation, history) for a one-turn
 * task, at worker concurrency 1, 16 and 64, against the four services as real processes.
 *
 * `ideal_runs_per_s` is what the model allows at that concurrency, measured in the same run:
 * the same generation (same role, prompt length and token count) called straight over gRPC
 * with that many calls in flight. The two are measured side by side in each of BENCH_ROUNDS
 * rounds (default 3); the figures are medians over the rounds, `ratio` the median of the
 * rounds' own ratios. Both sides use the `paced` benchmark model (no compute, a
 * token every 5 ms), so the gap is the runtime's own cost.
 * `cpu_ms_per_run`: CPU time the worker (session), role-context and inference processes used
 * per run of the measured batch — steadier than the rates on a machine shared with other work.
 * `redis_per_run`: commands Redis ran (scripts' commands included) and µs it spent in them per
 * run of the measured batches, the bench's own polls left out — exact counts, for comparing
 * versions of the code whatever the machine's load.
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

/**
 * Rounds of the measurement, side by side: each round measures the model's rate straight over
 * gRPC (`ideal`), then a batch of runs through the worker. The machine's speed swings within
 * seconds, so the ratio is taken per round (the median of the rounds' ratios counts).
 */
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));

/** N runs enqueued at once per round; rate = runs / (last result stored − first enqueue). */
async function measureRuns(stack: ServiceStack, redis: Redis, queue: Queue, model: ModelRate, concurrency: number, runs: number) {
  const worker = await stack.addSessionInstance({ AGENT_WORKER_CONCURRENCY: String(concurrency) });
  try {
    await runBatch(redis, queue, WARM_UP_RUNS[concurrency]);
    // CPU time per run: steadier than runs/s when other work shares the machine.
    const pids = { session: worker.pid, role_context: stack.pid('role-context')!, inference: stack.pid('inference')! };
    const cpu = Object.fromEntries(Object.keys(pids).map((name) => [name, 0]));
    const rounds: { ideal: number; runsPerS: number }[] = [];
    const waits: number[] = [];
    const redisWork = { commands: 0, usec: 0 };
    for (let r = 0; r < ROUNDS; r++) {
      const ideal = await model.rate(concurrency, runs);
      const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
      const redisBefore = await redisCommandTotals(redis);
      const batch = await runBatch(redis, queue, runs);
      for (const [name, pid] of Object.entries(pids)) cpu[name] += cpuMs(pid) - cpuBefore[name];
      const redisAfter = await redisCommandTotals(redis);
      redisWork.commands += redisAfter.commands - redisBefore.commands;
      redisWork.usec += redisAfter.usec - redisBefore.usec;
      waits.push(...batch.waits);
      rounds.push({ ideal, runsPerS: runs / batch.elapsedS });
    }
    waits.sort((a, b) => a - b);
    return {
      runs_per_s: median(rounds.map((r) => r.runsPerS)),
      ideal_runs_per_s: median(rounds.map((r) => r.ideal)),
      ratio: median(rounds.map((r) => r.runsPerS / r.ideal)),
      rounds,
      queue_wait_p50_ms: percentile(waits, 50),
      queue_wait_p99_ms: percentile(waits, 99),
      cpu_ms_per_run: Object.fromEntries(Object.entries(cpu).map(([name, ms]) => [name, round(ms / (runs * ROUNDS))])),
      redis_per_run: { commands: round(redisWork.commands / (runs * ROUNDS), 1), usec: round(redisWork.usec / (runs * ROUNDS)) },
    };
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
    // One pipeline per poll, every 250 ms: the rate comes from the stored finishedAt, so polling
    // less often only keeps the measurement from loading the Redis and CPU it measures (at 50 ms
    // the polls were about 70 HMGETs a run).
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
    await new Promise((r) => setTimeout(r, 250));
  }
  const jobs = await Promise.all(ids.map((id) => queue.getJob(id)));
  const waits = jobs.map((j) => (j?.processedOn ?? 0) - (j?.timestamp ?? 0)).filter((w) => w >= 0);
  return { elapsedS: (last - started) / 1000, waits };
}

/**
 * Commands Redis ran so far and the time it spent in them (INFO commandstats; commands inside
 * scripts count too). The bench's own polls (HMGET) and this INFO are left out, so the figures
 * are the runtime's: exact counts, unlike the CPU times, whatever else loads the machine.
 */
async function redisCommandTotals(redis: Redis): Promise<{ commands: number; usec: number }> {
  const totals = { commands: 0, usec: 0 };
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const m = /^cmdstat_([^:]+):calls=(\d+),usec=(\d+)/.exec(line);
    if (!m || m[1] === 'hmget' || m[1] === 'info') continue;
    totals.commands += Number(m[2]);
    totals.usec += Number(m[3]);
  }
  return totals;
}

/** The same generation straight over gRPC, `concurrency` calls in flight: the rate the model allows. */
class ModelRate {
  private readonly warm = new Set<number>();

  constructor(private readonly client: GrpcClient) {}

  async rate(concurrency: number, calls: number): Promise<number> {
    // Warmed up like the runs: the first batch at each concurrency is unmeasured.
    if (!this.warm.has(concurrency)) {
      this.warm.add(concurrency);
      await this.batch(concurrency, calls);
    }
    return this.batch(concurrency, calls);
  }

  private async batch(concurrency: number, calls: number): Promise<number> {
    let next = 0;
    const started = process.hrtime.bigint();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next++ < calls) await this.one();
      }),
    );
    return calls / (Number(process.hrtime.bigint() - started) / 1e9);
  }

  private async one(): Promise<void> {
    for await (const _ of this.client.serverStream('generate', { ...MODEL_REQUEST, requestId: randomUUID() })) void _;
  }
}

const MODEL_REQUEST: inference.GenerateRequest = {
  requestId: '',
  model: MODEL,
  messages: [
    { role: 'system', name: '', content: ROLE.persona },
    { role: 'user', name: 'agent-runner', content: `Task: ${TASK}` },
  ],
  params: { maxNewTokens: MAX_NEW_TOKENS, temperature: 0, topK: 0, topP: 1, seed: 0, repetitionPenalty: 0, stop: [] },
  priority: 'interactive',
  timeoutMs: 0,
  streamIntervalMs: 0,
};

const median = (values: number[]) => percentile([...values].sort((a, b) => a - b), 50);

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
  const model = new ModelRate(client);
  const results = [];
  try {
    for (const concurrency of LEVELS) {
      const measured = await measureRuns(stack, redis, queue, model, concurrency, RUNS[concurrency]);
      const row = {
        concurrency,
        runs_per_s: round(measured.runs_per_s),
        ideal_runs_per_s: round(measured.ideal_runs_per_s),
        ratio: round(measured.ratio, 3),
        queue_wait_p50_ms: measured.queue_wait_p50_ms,
        queue_wait_p99_ms: measured.queue_wait_p99_ms,
        cpu_ms_per_run: measured.cpu_ms_per_run,
        redis_per_run: measured.redis_per_run,
      };
      log(
        `concurrency ${concurrency}: ${row.runs_per_s} runs/s (model allows ${row.ideal_runs_per_s}/s, ratio ${row.ratio}), queue wait p50 ${row.queue_wait_p50_ms} ms, p99 ${row.queue_wait_p99_ms} ms; ` +
          `rounds runs/ideal ${measured.rounds.map((r) => `${round(r.runsPerS, 1)}/${round(r.ideal, 1)}`).join(' ')}`,
      );
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
