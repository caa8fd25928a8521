/**
 * `npm run bench:tools -- --json`: InvokeTool over gRPC against a real tool-plugin process,
 * the calculator run sandboxed (a plugin: child process + isolated-vm isolate, the same
 * expression parser) side by side with the built-in calculator run in-process, at concurrency
 * 1 and 64. Prints one JSON object on its last line. Needs Redis (the audit stream) and dist/
 * (the npm script builds it first).
 */
import { TOOL_PLUGIN_CONTRACT, toolPlugin } from '@troupe/contracts';
import { GrpcClient } from '@troupe/grpc';
import { ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from '../test/support/free-port';
import { TEST_REDIS_URL, deleteKeysWithPrefix } from '../test/support/redis-cleanup';
import { timeCalls } from './support/timed-calls';
import { printSummary } from './support/print-summary';

const ROOT = resolve(__dirname, '..');
const EXPRESSION = '(2 + 3) * 4 ^ 2 - sqrt(16) / 2';
const log = (m: string) => process.stderr.write(`${m}\n`);

/** A plugin wrapping the compiled expression parser, so both sides do the same work. */
function calculatorPlugin(dir: string): void {
  const plugin = join(dir, 'sandboxed-calculator');
  mkdirSync(plugin, { recursive: true });
  copyFileSync(join(ROOT, 'dist/apps/tool-plugin/src/tools/builtin/expression-parser.js'), join(plugin, 'expression-parser.js'));
  writeFileSync(join(plugin, 'plugin.json'), JSON.stringify({ name: 'sandboxed-calculator', version: '1.0.0' }));
  writeFileSync(
    join(plugin, 'index.js'),
    `const { definePlugin, defineTool } = require('@troupe/plugin-sdk');
     const { evaluateExpression } = require('./expression-parser');
     module.exports = definePlugin({ tools: [defineTool({
       name: 'calculator_sandboxed', description: 'The calculator, in the sandbox.',
       parameters: { type: 'object', properties: { expression: { type: 'string', minLength: 1, maxLength: 1000 } }, required: ['expression'], additionalProperties: false },
       run: ({ expression }) => ({ expression, value: evaluateExpression(expression) }) })] });`,
  );
}

async function waitReady(url: string, child: ChildProcess, output: string[]): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`tool-plugin exited:\n${output.join('')}`);
    try {
      if ((await fetch(`${url}/health`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`tool-plugin not ready:\n${output.join('')}`);
}

interface Run {
  rps: number;
  p50: number;
  p99: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

interface Sample {
  latencies: number[];
  seconds: number;
}

function summarize(samples: Sample[]): Run {
  const latencies = samples.flatMap((s) => s.latencies).sort((a, b) => a - b);
  const seconds = samples.reduce((t, s) => t + s.seconds, 0);
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return { rps: Math.round(latencies.length / seconds), p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)) };
}

async function measure(client: GrpcClient, tool: string, concurrency: number, calls: number): Promise<Sample> {
  const request: toolPlugin.InvokeToolRequest = {
    callId: 'bench',
    tool,
    argumentsJson: JSON.stringify({ expression: EXPRESSION }),
    roleId: '',
    sessionId: 'bench',
    turnId: '',
    userId: '',
    approved: false,
  };
  return timeCalls(concurrency, calls, async () => {
    const res = await client.unary<toolPlugin.InvokeToolRequest, toolPlugin.InvokeToolResponse>('invokeTool', request);
    if (!res.ok) throw new Error(`${tool} failed: ${res.error}`);
  });
}

async function main(): Promise<void> {
  const work = mkdtempSync(join(tmpdir(), 'troupe-bench-tools-'));
  const prefix = `troupe-bench:${randomBytes(4).toString('hex')}:`;
  calculatorPlugin(join(work, 'plugins'));
  const [http, grpcPort] = [await freePort(), await freePort()];
  const output: string[] = [];
  const child = spawn(process.execPath, [join(ROOT, 'dist/apps/tool-plugin/src/main.js')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      REDIS_URL: TEST_REDIS_URL,
      REDIS_KEY_PREFIX: prefix,
      LOG_LEVEL: 'warn',
      BIND_HOST: '127.0.0.1',
      TOOL_PLUGIN_HTTP_PORT: String(http),
      TOOL_PLUGIN_GRPC_PORT: String(grpcPort),
      PLUGINS_DIR: join(work, 'plugins'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (c: Buffer) => output.push(c.toString()));
  child.stderr!.on('data', (c: Buffer) => output.push(c.toString()));
  const client = new GrpcClient(TOOL_PLUGIN_CONTRACT, `127.0.0.1:${grpcPort}`, 30_000);
  try {
    await waitReady(`http://127.0.0.1:${http}`, child, output);
    const results = [];
    for (const concurrency of [1, 64]) {
      const calls = concurrency === 1 ? 3000 : 12000;
      // Warm both paths (JIT, channel, isolate) before measuring, then alternate them.
      await measure(client, 'calculator_sandboxed', concurrency, 300);
      await measure(client, 'calculator', concurrency, 300);
      // Alternating rounds, so drift on a busy machine hits both sides alike.
      const sandboxedSamples: Sample[] = [];
      const inprocessSamples: Sample[] = [];
      for (let round = 0; round < 6; round++) {
        sandboxedSamples.push(await measure(client, 'calculator_sandboxed', concurrency, calls / 6));
        inprocessSamples.push(await measure(client, 'calculator', concurrency, calls / 6));
      }
      const sandboxed = summarize(sandboxedSamples);
      const inprocess = summarize(inprocessSamples);
      log(`concurrency ${concurrency}: sandboxed ${JSON.stringify(sandboxed)} in-process ${JSON.stringify(inprocess)}`);
      results.push({
        concurrency,
        sandboxed_rps: sandboxed.rps,
        sandboxed_p50_ms: sandboxed.p50,
        sandboxed_p99_ms: sandboxed.p99,
        inprocess_rps: inprocess.rps,
        inprocess_p50_ms: inprocess.p50,
        inprocess_p99_ms: inprocess.p99,
        // The sandbox's cost: how many times slower (p50) and how much of the throughput is kept.
        p50_ratio: Math.round((sandboxed.p50 / inprocess.p50) * 100) / 100,
        rps_ratio: Math.round((sandboxed.rps / inprocess.rps) * 100) / 100,
        p50_overhead_ms: Math.round((sandboxed.p50 - inprocess.p50) * 1000) / 1000,
      });
    }
    const summary = { results };
    printSummary(summary);
  } finally {
    client.close();
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    await deleteKeysWithPrefix(prefix);
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
