import { inference, roleContext, toolPlugin } from '@troupe/contracts';
import { AgentRunResult } from '@troupe/domain';
import { Logger } from '@troupe/logging';
import { Redis, RedisSubscriber } from '@troupe/redis';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import { AddressInfo } from 'node:net';
import { DirectorPorts } from '../director/director';
import { SessionEventsService } from '../events/session-events.service';
import { SessionConfig } from '../session.config';
import { AgentAnnouncer } from './agent-announcer';
import { AgentQueues } from './agent-queues';
import { AgentRunStore } from './agent-run.store';
import { AgentRunner } from './agent-runner';
import { AgentRunsProcessor } from './agent-runs.processor';
import { AgentRunsService } from './agent-runs.service';

// Integration: the real Redis and BullMQ (flows, retries, dead letters) with scripted roles.
const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
jest.setTimeout(30_000);

const quiet = { info() {}, warn() {}, error() {}, debug() {} } as unknown as Logger;

/** Each role's replies by step; the lead delegates a review to the critic, then uses its answer. */
const SCRIPTS: Record<string, string[]> = {
  'lead:first': ['<tool_call>{"name": "delegate", "arguments": {"role": "critic", "task": "review the draft"}}</tool_call>', 'I asked the critic.'],
  'critic:first': ['The draft looks good.'],
  'lead:after-children': ['Final: the critic approves.'],
  // The model fails the first attempt ('!fail'), then answers.
  'flaky:first': ['!fail', 'Done at last.'],
};

function scriptedPorts(history: { sessionId: string; text: string }[]): DirectorPorts {
  const scripts = JSON.parse(JSON.stringify(SCRIPTS)) as Record<string, string[]>;
  return {
    appendHistory: async (r: roleContext.AppendHistoryRequest) => void history.push({ sessionId: r.sessionId, text: r.entry!.text }),
    assembleContext: async (r) => {
      // As role-context does: the turn's opening message is appended before the context is built.
      if (r.append) history.push({ sessionId: r.sessionId, text: r.append.text });
      return { role: { id: r.roleId, model: 'm' } as roleContext.Role, messages: [], historyEntries: 0, tokenCount: 0, tokenBudget: 0, tokenizer: '', summaryIncluded: false, recallMode: '', cached: false, appendedId: r.append ? 'x-0' : '' };
    },
    async *generate(r: inference.GenerateRequest): AsyncIterable<inference.GenerateResponse> {
      const [turnId, roleId] = r.requestId.split(':');
      const text = scripts[`${roleId}:${turnId.split('.').pop()}`]?.shift() ?? 'nothing more';
      if (text === '!fail') throw new Error('model unavailable');
      yield { token: { index: 0, tokenId: 0, text, tokenIds: [0] } };
      yield { done: { finishReason: 'stop', usage: { promptTokens: 1, completionTokens: 1 }, text: '', model: 'm' } };
    },
    invokeTool: async (r: toolPlugin.InvokeToolRequest) => ({ callId: r.callId, ok: true, resultJson: JSON.stringify({ directive: 'delegate', ...JSON.parse(r.argumentsJson) }), error: '', durationMs: 1 }),
    emit: () => undefined,
    chargeSession: async () => undefined,
    describeError: (e) => ({ code: 'INTERNAL', message: String(e) }),
    awaitApproval: async () => ({ approved: false, by: 'nobody', note: '' }),
  };
}

describe('AgentRunsProcessor (real Redis and BullMQ)', () => {
  const prefix = `troupe-test:${randomBytes(4).toString('hex')}:`;
  const config = Object.assign(new SessionConfig(), { REDIS_URL, REDIS_KEY_PREFIX: prefix, AGENT_WORKER_CONCURRENCY: 4, AGENT_LOCK_MS: 5000, AGENT_WEBHOOK_SECRET: 'spec-secret' });
  const history: { sessionId: string; text: string }[] = [];
  const published: { sessionId: string; event: string; payload: unknown }[] = [];
  /** Sessions the runs opened for themselves. */
  const opened: string[] = [];
  let redis: Redis;
  let queues: AgentQueues;
  let store: AgentRunStore;
  let runs: AgentRunsService;
  let subscriber: RedisSubscriber;
  let processor: AgentRunsProcessor;

  beforeAll(async () => {
    redis = new Redis(REDIS_URL, { keyPrefix: prefix });
    queues = new AgentQueues(config);
    store = new AgentRunStore(redis, config);
    subscriber = new RedisSubscriber(redis.duplicate({ keyPrefix: '' }));
    runs = new AgentRunsService(queues, store, config, redis, subscriber);
    await runs.onModuleInit();
    const events = { publish: (sessionId: string, event: string, payload: unknown) => published.push({ sessionId, event, payload }) } as unknown as SessionEventsService;
    const announcer = new AgentAnnouncer(store, events, queues, config, quiet);
    const runner = new AgentRunner({
      getRole: async (id) => ({ id, name: id, version: 1 }),
      openSession: async (_role, _runId, sessionId) => void opened.push(sessionId),
      director: scriptedPorts(history),
    });
    processor = new AgentRunsProcessor(queues, store, runner, runs, announcer, config, quiet);
    processor.onApplicationBootstrap();
  });

  afterAll(async () => {
    await processor.beforeApplicationShutdown();
    await queues.onApplicationShutdown();
    await subscriber.close();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length) await redis.del(...keys.map((k) => k.slice(prefix.length)));
    } while (cursor !== '0');
    redis.disconnect();
  });

  const waitFor = async (runId: string, status: string) => {
    for (let i = 0; i < 200; i++) {
      const run = await store.get(runId);
      if (run?.status === status) return run;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`run ${runId} never became ${status}: ${JSON.stringify(await store.get(runId))}`);
  };

  it('a delegating run waits for its child run (a BullMQ flow) and finishes with the child\'s result', async () => {
    const { run } = await runs.enqueue({ role: 'lead', task: 'Write and get it reviewed.' });
    const done = await waitFor(run.runId, 'completed');
    const childId = `${run.runId}.c0`;
    const child = await store.get(childId);
    expect(child).toMatchObject({ status: 'completed', role: 'critic', task: 'review the draft', parentRunId: run.runId });
    expect(done.result!.children[childId]).toMatchObject({ runId: childId, text: 'The draft looks good.' } satisfies Partial<AgentRunResult>);
    expect(done.result!.text).toBe('Final: the critic approves.');
    // Each run opened a session of its own and noted it; the second step went on in the first's.
    expect(opened).toEqual(expect.arrayContaining([done.sessionId, child!.sessionId]));
    expect(new Set(opened).size).toBe(opened.length);
    // The lead's second step was told what its delegate answered, in its own session.
    const secondStep = history.find((h) => h.sessionId === done.sessionId && h.text.includes('Results of the runs you delegated'));
    expect(secondStep?.text).toContain(`${childId} (critic): The draft looks good.`);
    // The tool result told the lead which run carries its delegation.
    expect(history.some((h) => h.text.includes(`"runId":"${childId}"`))).toBe(true);
    expect(published.filter((p) => p.event === 'agent.run' && (p.payload as { runId: string }).runId === run.runId)).toHaveLength(1);
  });

  it('a run a plain producer queued is recorded as started in a session of its own, opened once; its retry goes on there', async () => {
    await queues.queue('agent-runs').add('agent.run', { role: 'flaky', task: 'Try twice.' }, { jobId: 'flaky-run', attempts: 2 });
    const done = await waitFor('flaky-run', 'completed');
    expect(done).toMatchObject({ attempts: 2, role: 'flaky' });
    expect(done.result!.text).toBe('Done at last.');
    expect(done.result!.sessionId).toBe(done.sessionId);
    // Both attempts' turns ran in the session the first chose; only the first opened it.
    expect(history.filter((h) => h.text === 'Task: Try twice.').map((h) => h.sessionId)).toEqual([done.sessionId, done.sessionId]);
    expect(opened.filter((id) => id === done.sessionId)).toHaveLength(1);
  });

  it('a payload that breaks the job schema fails for good, naming the field, into the dead letters', async () => {
    await queues.queue('agent-runs').add('agent.run', { role: 'lead', task: '', extra: true }, { jobId: 'bad-payload', attempts: 3 });
    const run = await waitFor('bad-payload', 'failed');
    expect(run.error).toMatch(/^INVALID_PAYLOAD: /);
    expect(run.error).toContain('task:');
    expect(run.error).toContain('extra:');
    const dead = await runs.deadLetters(0, 10);
    expect(dead.items.find((d) => d.runId === 'bad-payload')).toMatchObject({ attemptsMade: 1 });
  });

  it('POSTs the finished run to its webhook, signed, retrying a failed delivery', async () => {
    const posts: { status: number; body: string; signature: string }[] = [];
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        const status = posts.length === 0 ? 500 : 204;
        posts.push({ status, body, signature: String(req.headers['x-troupe-signature']) });
        res.writeHead(status).end();
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;
      const { run } = await runs.enqueue({ role: 'critic', task: 'Review.', webhookUrl: url });
      await waitFor(run.runId, 'completed');
      for (let i = 0; i < 100 && posts.length < 2; i++) await new Promise((r) => setTimeout(r, 50));
      expect(posts.map((p) => p.status)).toEqual([500, 204]);
      expect(posts[1].signature).toBe(`sha256=${createHmac('sha256', 'spec-secret').update(posts[1].body).digest('hex')}`);
      expect(JSON.parse(posts[1].body)).toMatchObject({ runId: run.runId, status: 'completed', role: 'critic' });
    } finally {
      server.close();
    }
  });

  it('claims completion once per run id, whatever the number of attempts', async () => {
    const result = { runId: 'twice', sessionId: 's', reason: 'completed', detail: '', text: 'x', replies: [], usage: { promptTokens: 0, completionTokens: 0 }, children: {} } as AgentRunResult;
    await store.create({ runId: 'twice', role: 'lead', task: 't', sessionId: '', parentRunId: '', idempotencyKey: '' });
    expect(await Promise.all([store.complete('twice', result), store.complete('twice', result), store.finish('twice', 'failed', 'late')])).toEqual([true, false, false]);
    expect(await store.get('twice')).toMatchObject({ status: 'completed', error: '' });
  });
});
