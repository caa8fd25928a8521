/**
 * npm run bench:chat [-- --json] [-- --clients N] [-- --cpu-prof DIR] [-- --token-interval MS] [-- --warm-up N]
 *
 * What the runtime costs a chat, measured against the `paced` benchmark model (no compute)
 * and against a bare Socket.IO server that only emits, with the same client harness in one run:
 *   throughput  N clients each ask for a 128-token reply at pace 0: delivered tokens/s,
 *               Troupe vs the bare server (median of 3 rounds each), and the ratio;
 *   latency     N clients, each sends one message at a random moment in a 10 s window, replies
 *               of 128 tokens at 20 ms a token: time to first token minus the pace (p50/95/99);
 *   memory      RSS per 1,000 idle connected clients, Troupe's session process vs the bare one;
 *   cpu         CPU time of the session, inference and role-context processes per 1,000 tokens delivered in
 *               each run (steadier than the rates when other work shares the machine).
 * Both servers first serve WARM_UP_ROUNDS unmeasured throughput rounds (steady state).
 * Prints progress on stderr and one JSON object on the last line.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Socket, io } from 'socket.io-client';
import { cpuMs } from '../test/support/process-cpu';
import { writePacedModel } from '../test/support/paced-model';
import { makeRolesDir } from '../test/support/roles-fixture';
import { REPO_ROOT, ServiceStack } from '../test/support/service-stack';

const argValue = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const CLIENTS = argValue('--clients', 1000);
const profileIndex = process.argv.indexOf('--cpu-prof');
/** `--cpu-prof DIR`: the session and inference processes write V8 CPU profiles under DIR/<service> when they stop. */
const PROFILE_DIR = profileIndex >= 0 ? resolve(process.argv[profileIndex + 1]) : undefined;
/** `--token-interval MS`: the session's TOKEN_STREAM_INTERVAL_MS for this run (default: the service's). */
const TOKEN_INTERVAL: Record<string, string> = process.argv.includes('--token-interval') ? { TOKEN_STREAM_INTERVAL_MS: String(argValue('--token-interval', 50)) } : {};
const TOKENS = 128;
const PACE_MS = 20;
const WINDOW_MS = 10_000;
/** `--warm-up N`: unmeasured throughput rounds on each server before the measured one (default 5). */
const WARM_UP_ROUNDS = argValue('--warm-up', 5);
/** Measured throughput rounds on each server; the median counts (one round lasts 1–3 s). */
const MEASURED_ROUNDS = 3;
const log = (msg: string) => process.stderr.write(`${msg}\n`);


function rssMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
}

const percentile = (sorted: number[], p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : NaN);
const round = (x: number, d = 2) => Math.round(x * 10 ** d) / 10 ** d;

async function connectAll(url: string, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  for (let i = 0; i < n; i += 100) {
    const batch = Array.from({ length: Math.min(100, n - i) }, () => {
      const socket = io(url, { transports: ['websocket'], reconnection: false, auth: { name: 'bench' } });
      sockets.push(socket);
      return new Promise<void>((resolve, reject) => {
        socket.once('connect', () => resolve());
        socket.once('connect_error', reject);
      });
    });
    await Promise.all(batch);
  }
  return sockets;
}

function closeAll(sockets: Socket[]): void {
  for (const s of sockets) s.close();
}

interface TurnResult {
  firstTokenMs?: number;
  tokens: number;
  /** reply.token events received (fewer than tokens when tokens were coalesced). */
  events: number;
  /** Why the turn ended, when it did not complete. */
  failure?: string;
  ok: boolean;
}

/** Sends one message per socket (at `delays[i]` ms) and resolves when every turn ended. */
function runTurns(sockets: Socket[], sessionIds: string[], delays: number[], timeoutMs: number): Promise<{ results: TurnResult[]; wallMs: number }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const results: TurnResult[] = sockets.map(() => ({ tokens: 0, events: 0, ok: false }));
    let pending = sockets.length;
    // Listeners of this run only: the same sockets serve the next round.
    const listeners: [Socket, string, (...args: unknown[]) => void][] = [];
    const on = <T>(socket: Socket, event: string, listener: (e: T) => void) => {
      socket.on(event, listener);
      listeners.push([socket, event, listener as unknown as (...args: unknown[]) => void]);
    };
    const finish = () => {
      const wallMs = Date.now() - started;
      for (const [socket, event, listener] of listeners) socket.off(event, listener);
      resolve({ results, wallMs });
    };
    const timer = setTimeout(finish, timeoutMs);
    sockets.forEach((socket, i) => {
      let sentAt = 0;
      // An event may carry several tokens (`count`, when they came faster than they were sent).
      on(socket, 'reply.token', (e: { count?: number }) => {
        if (results[i].tokens === 0) results[i].firstTokenMs = Date.now() - sentAt;
        results[i].tokens += e.count ?? 1;
        results[i].events++;
      });
      on(socket, 'turn.end', (e: { reason: string; detail: string }) => {
        results[i].ok = e.reason === 'completed' && results[i].tokens === TOKENS;
        if (!results[i].ok) results[i].failure = `${e.reason}: ${e.detail} (${results[i].tokens} tokens)`;
        if (--pending === 0) {
          clearTimeout(timer);
          finish();
        }
      });
      setTimeout(() => {
        sentAt = Date.now();
        socket.emit('message.send', { sessionId: sessionIds[i], text: 'Tell me about the harbour.' }, (ack: { ok: boolean }) => {
          if (!ack.ok) results[i].ok = false;
        });
      }, delays[i]);
    });
  });
}

/** CPU time of Troupe's processes from now: `ms()` so far, or per 1,000 tokens delivered. */
function troupeCpu(stack: ServiceStack) {
  const pids = { session: stack.pid('session')!, inference: stack.pid('inference')!, role_context: stack.pid('role-context')! };
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid)]));
  const ms = () => Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuMs(pid) - before[name]]));
  return {
    ms,
    perThousand(results: TurnResult[]) {
      return perThousandTokens(ms(), results.reduce((n, r) => n + r.tokens, 0));
    },
  };
}

const perThousandTokens = (ms: Record<string, number>, tokens: number) => Object.fromEntries(Object.entries(ms).map(([name, v]) => [name, round(v / (tokens / 1000))]));

function logFailures(results: TurnResult[]): void {
  const counts = new Map<string, number>();
  for (const r of results) {
    if (!r.failure) continue;
    // Grouped by what went wrong, not by the timings and counts in the message.
    const kind = r.failure.replace(/\d+(\.\d+)?/g, 'N').slice(0, 160);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  for (const [failure, n] of counts) log(`${n} turns: ${failure}`);
}

async function openSessions(sockets: Socket[], role: string): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < sockets.length; i += 100) {
    const batch = sockets.slice(i, i + 100).map((s) =>
      s.timeout(30_000).emitWithAck('session.open', { roles: [role], policy: { turnPolicy: 'single' } }).then((ack: { ok: boolean; sessionId: string }) => {
        if (!ack.ok) throw new Error(`session.open failed: ${JSON.stringify(ack)}`);
        return ack.sessionId;
      }),
    );
    ids.push(...(await Promise.all(batch)));
  }
  return ids;
}

/**
 * Unmeasured throughput rounds before the measured one, on Troupe and on the bare server alike:
 * a long-running server is in steady state, a fresh one is not. Troupe's first round ran at
 * 0.6–0.7 of the rate of its third (V8 optimizes the per-turn and per-token paths — Socket.IO,
 * gRPC, validation, Redis replies — only after thousands of calls).
 */
async function warmUp(name: string, sockets: Socket[], sessionIds: string[]): Promise<void> {
  for (let round = 1; round <= WARM_UP_ROUNDS; round++) {
    log(`${name} warm-up round ${round}: ${Math.round((await throughputRound(sockets, sessionIds)).tps)} tokens/s`);
  }
}

/** One message per socket at once (pace 0), and what it delivered. */
async function throughputRound(sockets: Socket[], sessionIds: string[]) {
  const run = await runTurns(sockets, sessionIds, sockets.map(() => 0), 300_000);
  const tokens = run.results.reduce((n, r) => n + r.tokens, 0);
  return { ...run, tokens, events: run.results.reduce((n, r) => n + r.events, 0), tps: tokens / (run.wallMs / 1000) };
}

/**
 * MEASURED_ROUNDS throughput rounds at pace 0, each with its delivered tokens/s. Each round's
 * messages open their sessions (`sessionsOf` gives a fresh set per round): every round measures
 * the same thing, a first reply, not one on a history that grew with the rounds before.
 */
async function measuredRounds(sockets: Socket[], sessionsOf: () => Promise<string[]>, cpuMeter?: () => ReturnType<typeof troupeCpu>) {
  const rounds = [];
  for (let i = 0; i < MEASURED_ROUNDS; i++) {
    const sessionIds = await sessionsOf();
    const cpu = cpuMeter?.();
    rounds.push({ ...(await throughputRound(sockets, sessionIds)), cpuMs: cpu?.ms() ?? {} });
  }
  return rounds;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function startBare(paceMs: number): Promise<{ url: string; child: ChildProcess }> {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'bench', 'support', 'bare-socket-server.js')], {
    env: { ...process.env, TOKENS: String(TOKENS), PACE_MS: String(paceMs) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const port = await new Promise<number>((resolve) => child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim()))));
  return { url: `http://127.0.0.1:${port}`, child };
}

async function main(): Promise<void> {
  const models = mkdtempSync(join(tmpdir(), 'troupe-bench-models-'));
  writePacedModel(models, 'paced-0', 0);
  writePacedModel(models, 'paced-20', PACE_MS);
  const roles = makeRolesDir({
    'bench-fast.json': { id: 'bench-fast', name: 'Fast', persona: 'Talk.', model: 'paced-0', generation: { maxNewTokens: TOKENS } },
    'bench-paced.json': { id: 'bench-paced', name: 'Paced', persona: 'Talk.', model: 'paced-20', generation: { maxNewTokens: TOKENS } },
  });
  const stack = await ServiceStack.start({
    rolesDir: roles.dir,
    modelsDir: models,
    env: { session: { LOG_LEVEL: 'warn', RATE_LIMIT_MESSAGES_PER_MINUTE: '100000', ...TOKEN_INTERVAL }, 'role-context': { LOG_LEVEL: 'warn' }, inference: { LOG_LEVEL: 'warn' } },
    ...(PROFILE_DIR ? { execArgv: Object.fromEntries((['session', 'inference'] as const).map((s) => [s, ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}/${s}`]])) } : {}),
  });
  const bare = await startBare(0);
  try {
    // Memory: idle connections.
    const bareBefore = rssMb(bare.child.pid!);
    let sockets = await connectAll(bare.url, CLIENTS);
    await new Promise((r) => setTimeout(r, 1500));
    const bareIdle = ((rssMb(bare.child.pid!) - bareBefore) * 1000) / CLIENTS;
    closeAll(sockets);
    const troupePid = stack.pid('session')!;
    const troupeBefore = rssMb(troupePid);
    sockets = await connectAll(stack.sessionUrl, CLIENTS);
    await new Promise((r) => setTimeout(r, 1500));
    const troupeIdle = ((rssMb(troupePid) - troupeBefore) * 1000) / CLIENTS;
    log(`idle RSS per 1000 clients: bare ${round(bareIdle)} MB, troupe ${round(troupeIdle)} MB`);

    // Throughput at pace 0: Troupe (sockets are connected) then the bare server.
    const sessions = await openSessions(sockets, 'bench-fast');
    await warmUp('troupe', sockets, sessions);
    const troupeRounds = await measuredRounds(sockets, () => openSessions(sockets, 'bench-fast'), () => troupeCpu(stack));
    const troupeResults = troupeRounds.flatMap((r) => r.results);
    // CPU over the measured rounds (session opening excluded), per 1,000 tokens.
    const throughputCpu = perThousandTokens(
      Object.fromEntries(Object.keys(troupeRounds[0].cpuMs).map((name) => [name, troupeRounds.reduce((sum, r) => sum + r.cpuMs[name], 0)])),
      troupeRounds.reduce((n, r) => n + r.tokens, 0),
    );
    const troupeTps = median(troupeRounds.map((r) => r.tps));
    const throughputErrors = troupeResults.filter((r) => !r.ok).length;
    logFailures(troupeResults);
    for (const r of troupeRounds) log(`troupe: ${r.tokens} tokens (${r.events} events) in ${r.wallMs} ms = ${Math.round(r.tps)} tokens/s`);
    log(`troupe: median ${Math.round(troupeTps)} tokens/s over ${troupeRounds.length} rounds (${throughputErrors} errors)`);
    closeAll(sockets);

    const bareSockets = await connectAll(bare.url, CLIENTS);
    const bareSessions = bareSockets.map((_, i) => `s${i}`);
    await warmUp('bare', bareSockets, bareSessions);
    const bareRounds = await measuredRounds(bareSockets, async () => bareSessions);
    const ceilingTps = median(bareRounds.map((r) => r.tps));
    for (const r of bareRounds) log(`bare:   ${r.tokens} tokens in ${r.wallMs} ms = ${Math.round(r.tps)} tokens/s`);
    log(`bare:   median ${Math.round(ceilingTps)} tokens/s over ${bareRounds.length} rounds`);
    closeAll(bareSockets);

    // Latency at 20 ms a token, messages spread over a 10 s window.
    const latencySockets = await connectAll(stack.sessionUrl, CLIENTS);
    const latencySessions = await openSessions(latencySockets, 'bench-paced');
    const latencyCpuStart = troupeCpu(stack);
    const latency = await runTurns(latencySockets, latencySessions, latencySockets.map(() => Math.random() * WINDOW_MS), WINDOW_MS + 120_000);
    const latencyCpu = latencyCpuStart.perThousand(latency.results);
    const overheads = latency.results.filter((r) => r.firstTokenMs !== undefined).map((r) => r.firstTokenMs! - PACE_MS).sort((a, b) => a - b);
    const latencyErrors = latency.results.filter((r) => !r.ok).length;
    logFailures(latency.results);
    log(`latency run: ${latency.results.reduce((n, r) => n + r.events, 0)} token events`);
    log(`ttft overhead p50 ${percentile(overheads, 0.5)} ms, p95 ${percentile(overheads, 0.95)} ms, p99 ${percentile(overheads, 0.99)} ms, ${latencyErrors} errors`);
    closeAll(latencySockets);

    const result = {
      clients: CLIENTS,
      ceiling_tokens_per_s: Math.round(ceilingTps),
      troupe_tokens_per_s: Math.round(troupeTps),
      throughput_ratio: round(troupeTps / ceilingTps, 3),
      ttft_overhead_p50_ms: percentile(overheads, 0.5),
      ttft_overhead_p95_ms: percentile(overheads, 0.95),
      ttft_overhead_p99_ms: percentile(overheads, 0.99),
      errors: throughputErrors + latencyErrors,
      rss_mb_per_1000_idle: { bare: round(bareIdle), troupe: round(troupeIdle) },
      cpu_ms_per_1000_tokens: { throughput: throughputCpu, latency: latencyCpu },
    };
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } finally {
    bare.child.kill('SIGTERM');
    await stack.stop();
    roles.remove();
    rmSync(models, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
