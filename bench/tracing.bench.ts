/**
 * `npm run bench:tracing -- --json`: what tracing costs. (1) A cheap gRPC call (GetRole on a
 * real role-context process) from this process, untraced against an instance with tracing off,
 * and traced end to end (client span here, server span there, both exported over OTLP/HTTP to
 * a sink process that drops them) against an instance with tracing on — alternating rounds, side by
 * side, at concurrency 1 and 16. (2) The span helper alone, per call, with tracing off and on,
 * against the bare async call. Prints one JSON object on its last line. Needs Redis and dist/.
 */
import { BatchSpanProcessor, ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { GrpcClient } from '@troupe/grpc';
import { Tracing, inSpan, startTracing } from '@troupe/tracing';
import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ServiceProcess, testPrefix } from '../test/support/service-process';
import { timeCalls } from './support/timed-calls';
import { printSummary } from './support/print-summary';

const log = (m: string) => process.stderr.write(`${m}\n`);
const round3 = (n: number) => Math.round(n * 1000) / 1000;

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function measure(client: GrpcClient, concurrency: number, calls: number): Promise<number[]> {
  const { latencies } = await timeCalls(concurrency, calls, async () => {
    await client.unary('getRole', { id: 'narrator', version: 0 });
  });
  return latencies;
}

/** The OTLP sink (bench/support/otlp-sink.js) as a child process; resolves with its URL. */
async function startSink(): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(__dirname, 'support', 'otlp-sink.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<string>((resolve, reject) => {
    child.stdout!.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
    child.once('exit', (code) => reject(new Error(`the OTLP sink exited with ${code}`)));
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

/** ns per call of `inSpan` around an empty async function, next to the bare call. */
async function spanCost(iterations: number): Promise<{ bare_ns: number; in_span_ns: number }> {
  const work = async () => 1;
  const time = async (fn: () => Promise<unknown>) => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) await fn();
    return Number(process.hrtime.bigint() - started) / iterations;
  };
  await time(work);
  await time(() => inSpan('bench', {}, work));
  const bare = await time(work);
  const wrapped = await time(() => inSpan('bench', {}, work));
  return { bare_ns: Math.round(bare), in_span_ns: Math.round(wrapped) };
}

/** Drops spans (the micro benchmark measures making them, not shipping them). */
const discard: SpanExporter = { export: (_spans: ReadableSpan[], done) => done({ code: 0 }), shutdown: async () => undefined };

async function main(): Promise<void> {
  const redis = testPrefix();
  const sink = await startSink();
  const base = { REDIS_KEY_PREFIX: redis.prefix, LOG_LEVEL: 'warn' };
  const off = await ServiceProcess.start('role-context', base);
  const on = await ServiceProcess.start('role-context', { ...base, OTEL_EXPORTER_OTLP_ENDPOINT: sink.url, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' });
  const offClient = off.roleContextClient(30_000);
  const onClient = on.roleContextClient(30_000);
  const settings = { serviceName: 'bench', resourceAttributes: {}, url: `${sink.url}/v1/traces`, protocol: 'http/json' as const };
  let tracing: Tracing | undefined;
  try {
    const results = [];
    for (const concurrency of [1, 16]) {
      const calls = concurrency === 1 ? 2400 : 9600;
      const untraced: number[] = [];
      const traced: number[] = [];
      await measure(offClient, concurrency, 300);
      tracing = startTracing(settings);
      await measure(onClient, concurrency, 300);
      await tracing.shutdown();
      // Alternating rounds, so drift on a busy machine hits both sides alike.
      for (let round = 0; round < 6; round++) {
        untraced.push(...(await measure(offClient, concurrency, calls / 6)));
        tracing = startTracing(settings);
        traced.push(...(await measure(onClient, concurrency, calls / 6)));
        await tracing.shutdown();
        tracing = undefined;
      }
      untraced.sort((a, b) => a - b);
      traced.sort((a, b) => a - b);
      const row = {
        concurrency,
        untraced_p50_ms: round3(percentile(untraced, 50)),
        untraced_p99_ms: round3(percentile(untraced, 99)),
        traced_p50_ms: round3(percentile(traced, 50)),
        traced_p99_ms: round3(percentile(traced, 99)),
        p50_ratio: Math.round((percentile(traced, 50) / percentile(untraced, 50)) * 100) / 100,
      };
      log(JSON.stringify(row));
      results.push(row);
    }
    const exportRequests = ((await (await fetch(`${sink.url}/count`)).json()) as { exports: number }).exports;
    const offCost = await spanCost(200_000);
    tracing = startTracing(settings, { spanProcessor: new BatchSpanProcessor(discard) });
    const onCost = await spanCost(200_000);
    await tracing.shutdown();
    tracing = undefined;
    const summary = {
      grpc: results,
      otlp_export_requests: exportRequests,
      span_helper_off: offCost,
      span_helper_on: onCost,
    };
    printSummary(summary);
  } finally {
    await tracing?.shutdown();
    offClient.close();
    onClient.close();
    await Promise.all([off.stop(), on.stop()]);
    sink.child.kill('SIGTERM');
    await redis.cleanup();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
