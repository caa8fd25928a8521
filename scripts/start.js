#!/usr/bin/env node
// `npm start`: everything a fresh clone needs, then all four services, then the chat URL.
// Uses only Node built-ins until dependencies are installed.
const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');
const readline = require('node:readline');
const { pingRedis } = require('./lib/redis-ping');
const { run, bin, root } = require('./lib/run');

const SERVICES = ['role-context', 'tool-plugin', 'inference', 'session'];
const redisUrl = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const sessionPort = Number(process.env.SESSION_HTTP_PORT || 3000);
const children = new Map();
let redisChild;
let stopping = false;

function say(message) {
  console.log(`\x1b[1mtroupe\x1b[0m ${message}`);
}

async function ensureInstalled() {
  if (fs.existsSync(path.join(root, 'node_modules', '.package-lock.json'))) return;
  say('installing dependencies (npm ci)…');
  await run('npm', ['ci', '--no-audit', '--no-fund']);
}

function onPath(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

async function ensureRedis() {
  if (await pingRedis(redisUrl)) return say(`Redis answers at ${redisUrl}`);
  const { hostname, port } = new URL(redisUrl);
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname);
  if (!local || !onPath('redis-server')) {
    console.error(
      `No Redis answers at ${redisUrl}.\n` +
        `  Debian/Ubuntu: sudo apt-get install -y redis-server && redis-server --daemonize yes\n` +
        `  macOS:         brew install redis && brew services start redis\n` +
        `  Docker:        docker run -d -p 6379:6379 redis:7\n` +
        `or point REDIS_URL at a running one, then run npm start again.`,
    );
    process.exit(1);
  }
  say(`starting redis-server on port ${port || 6379} (stopped with Troupe)`);
  redisChild = spawn('redis-server', ['--port', String(port || 6379), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  for (let i = 0; i < 50; i++) {
    if (await pingRedis(redisUrl)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('redis-server did not start');
}

function startService(name) {
  const child = spawn(process.execPath, [path.join(root, 'dist', 'apps', name, 'src', 'main.js')], {
    cwd: root,
    env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const label = `[${name}]`.padEnd(15);
  for (const stream of [child.stdout, child.stderr]) {
    readline.createInterface({ input: stream }).on('line', (line) => process.stdout.write(`${label}${line}\n`));
  }
  child.on('close', (code, signal) => {
    children.delete(name);
    if (!stopping) {
      say(`${name} exited (${signal ?? code}); stopping the others`);
      void stop(1);
    }
  });
  children.set(name, child);
}

async function waitForChat(timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !stopping) {
    try {
      const res = await fetch(`http://127.0.0.1:${sessionPort}/health`);
      if (res.status === 200) return true;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return false;
}

async function stop(code) {
  if (stopping) return;
  stopping = true;
  say('stopping…');
  // 'close' waits for the child's output to be read to the end, so its last log lines show.
  const exits = [...children.values()].map((c) => new Promise((r) => c.once('close', r)));
  for (const child of children.values()) child.kill('SIGTERM');
  await Promise.race([Promise.all(exits), new Promise((r) => setTimeout(r, 15_000))]);
  for (const child of children.values()) child.kill('SIGKILL');
  redisChild?.kill('SIGTERM');
  process.exit(code);
}

async function main() {
  process.env.ONNXRUNTIME_NODE_INSTALL = 'skip';
  await ensureInstalled();
  await ensureRedis();
  say('building models and services…');
  await run(bin('tsx'), ['scripts/build-models.ts']);
  await run(process.execPath, ['scripts/build.js']);
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));
  for (const name of SERVICES) startService(name);
  if (await waitForChat(90_000)) {
    say(`ready. Chat: http://localhost:${sessionPort}/   (Ctrl-C stops everything)`);
  } else if (!stopping) {
    say('the session service did not become ready; see the logs above');
    await stop(1);
  }
}

main().catch((e) => {
  console.error(e.message);
  void stop(1);
});
