import { AgentRunPayload } from '@troupe/domain';
import { Queue, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { createHmac } from 'node:crypto';
import { createServer, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import { TEST_REDIS_URL } from './support/redis-cleanup';
import { longTalkerRole, makeRolesDir } from './support/roles-fixture';
import { ServiceStack } from './support/service-stack';
import { until } from './support/until';

/** Runs here wait on stalled-job recovery: give them twice the usual time. */
const untilSlow = <T>(probe: () => Promise<T | undefined>, what: string) => until(probe, what, 60_000);

jest.setTimeout(120_000);

const WEBHOOK_SECRET = 'webhook-secret-for-the-crash-test';
const WORKER_ENV = { AGENT_WORKER_CONCURRENCY: '2', AGENT_LOCK_MS: '1500', AGENT_STALLED_INTERVAL_MS: '700' };

describe('agent runs survive a worker that dies mid-run', () => {
  let stack: ServiceStack;
  let roles: ReturnType<typeof makeRolesDir>;
  let redis: Redis;
  let queue: Queue;
  let queueEvents: QueueEvents;
  const connections: Redis[] = [];
  const bullConnection = () => {
    const c = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    connections.push(c);
    return c;
  };
  let webhook: Server;
  const posts: { body: string; signature: string }[] = [];

  beforeAll(async () => {
    roles = makeRolesDir({ 'long-talker.json': longTalkerRole(60) });
    // The stack's own session instance only produces; the workers are started by the test.
    stack = await ServiceStack.start({ rolesDir: roles.dir, env: { session: { AGENT_WORKER_CONCURRENCY: '0', AGENT_WEBHOOK_SECRET: WEBHOOK_SECRET } } });
    redis = new Redis(TEST_REDIS_URL, { keyPrefix: stack.prefix });
    queue = new Queue('agent-runs', { connection: bullConnection(), prefix: `${stack.prefix}bull` });
    queueEvents = new QueueEvents('agent-runs', { connection: bullConnection(), prefix: `${stack.prefix}bull` });
    await queueEvents.waitUntilReady();
    webhook = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        posts.push({ body, signature: String(req.headers['x-troupe-signature'] ?? '') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => webhook.listen(0, '127.0.0.1', r));
  });

  afterAll(async () => {
    await queueEvents?.close();
    await queue?.close();
    redis?.disconnect();
    connections.forEach((c) => c.disconnect());
    webhook?.close();
    await stack?.stop();
    roles?.remove();
  });

  it('completes the run on another worker and records and announces its result exactly once', async () => {
    const completed: string[] = [];
    queueEvents.on('completed', ({ jobId }) => completed.push(jobId));
    const first = await stack.addSessionInstance({ ...WORKER_ENV, AGENT_WEBHOOK_SECRET: WEBHOOK_SECRET });

    // Any BullMQ producer may enqueue: the job id is the run id.
    const port = (webhook.address() as AddressInfo).port;
    const payload: AgentRunPayload = { role: 'long-talker', task: 'Tell a long story.', webhookUrl: `http://127.0.0.1:${port}/hook`, retry: { attempts: 3, backoffMs: 100 } };
    // Inference frozen: the run gets as far as asking for tokens and hangs there, mid-run.
    stack.signal('inference', 'SIGSTOP');
    const job = await queue.add('agent.run', payload, { jobId: 'crash-run-1', attempts: 3, backoff: { type: 'exponential', delay: 100 } });
    const runKey = `agent-run:${job.id}`;

    // Mid-run: the worker has started it and the role is streaming tokens into the run's session.
    const sessionId = await untilSlow(async () => {
      const run = await redis.hgetall(runKey);
      return run.status === 'active' && run.sessionId ? run.sessionId : undefined;
    }, 'the run to start').catch((e) => {
      throw new Error(`${(e as Error).message}\n${first.output.slice(-30).join('\n')}`);
    });
    await untilSlow(async () => ((await redis.xlen(`session:${sessionId}:events`)) > 0 ? true : undefined), 'the first attempt\'s reply.start');
    expect(await redis.exists(`agent-run:${job.id}:done`)).toBe(0);
    await first.kill();
    stack.signal('inference', 'SIGCONT');

    const second = await stack.addSessionInstance({ ...WORKER_ENV, AGENT_WEBHOOK_SECRET: WEBHOOK_SECRET });
    try {
      const run = await untilSlow(async () => {
        const r = await redis.hgetall(runKey);
        return r.status === 'completed' ? r : undefined;
      }, 'the run to complete');
      expect(Number(run.attempts)).toBeGreaterThanOrEqual(2);
      const result = JSON.parse(run.result);
      expect(result).toMatchObject({ runId: job.id, sessionId, reason: 'completed' });
      expect(result.text.length).toBeGreaterThan(0);
      // The same session continued: a retry does not open another one.
      expect(run.sessionId).toBe(sessionId);

      await untilSlow(async () => (posts.length > 0 ? true : undefined), 'the webhook');
      // Give a double announcement the time to show up before counting.
      await new Promise((r) => setTimeout(r, 1500));
      expect(completed.filter((id) => id === job.id)).toHaveLength(1);
      expect(posts).toHaveLength(1);
      expect(posts[0].signature).toBe(`sha256=${createHmac('sha256', WEBHOOK_SECRET).update(posts[0].body).digest('hex')}`);
      expect(JSON.parse(posts[0].body)).toMatchObject({ runId: job.id, status: 'completed', result: { text: result.text } });
      const events = await redis.xrange(`session:${sessionId}:events`, '-', '+');
      const announcements = events.filter(([, fields]) => fields[1] === 'agent.run');
      expect(announcements).toHaveLength(1);
      expect(JSON.parse(announcements[0][1][3])).toMatchObject({ runId: job.id, status: 'completed', text: result.text });
      expect((await queue.getJob(job.id!))?.returnvalue).toMatchObject({ runId: job.id, text: result.text });
    } finally {
      await second.terminate();
    }
  });
  it('on SIGTERM a worker stops taking runs and finishes the one in hand', async () => {
    const worker = await stack.addSessionInstance({ ...WORKER_ENV, SHUTDOWN_TIMEOUT_MS: '20000' });
    stack.signal('inference', 'SIGSTOP');
    let exit: Promise<number | null> | undefined;
    try {
      const inHand = await queue.add('agent.run', { role: 'long-talker', task: 'Keep going.' }, { jobId: 'graceful-in-hand' });
      const sessionId = await untilSlow(async () => {
        const run = await redis.hgetall(`agent-run:${inHand.id}`);
        return run.status === 'active' && run.sessionId ? run.sessionId : undefined;
      }, 'the run in hand to start');
      await untilSlow(async () => ((await redis.xlen(`session:${sessionId}:events`)) > 0 ? true : undefined), 'its reply.start');
      exit = worker.terminate();
      // Stopping: a run enqueued now is left for another worker.
      await untilSlow(async () => (worker.output.some((l) => l.includes('shutting down')) ? true : undefined), 'the worker to start shutting down');
      const later = await queue.add('agent.run', { role: 'long-talker', task: 'Later.' }, { jobId: 'graceful-later' });
      await new Promise((r) => setTimeout(r, 1000));
      stack.signal('inference', 'SIGCONT');
      expect(await exit).toBe(0);
      const run = await redis.hgetall(`agent-run:${inHand.id}`);
      expect(run).toMatchObject({ status: 'completed', attempts: '1' });
      expect(await later.getState()).toBe('waiting');
    } finally {
      stack.signal('inference', 'SIGCONT');
      await (exit ?? worker.terminate());
    }
    const next = await stack.addSessionInstance(WORKER_ENV);
    try {
      await untilSlow(async () => ((await redis.hget('agent-run:graceful-later', 'status')) === 'completed' ? true : undefined), 'the later run on the next worker');
    } finally {
      await next.terminate();
    }
  });
});
