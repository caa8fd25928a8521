import { GenerateJobPayload, GenerateJobResult, INFERENCE_JOBS_QUEUE, inferenceJobsPrefix } from '@troupe/inference-jobs';
import { Job, Queue, QueueEvents } from 'bullmq';
import Redis from 'ioredis';
import { TEST_REDIS_URL } from './support/redis-cleanup';
import { ServiceStack } from './support/service-stack';

jest.setTimeout(120_000);

/** Background agents' bulk generations through the `inference-jobs` BullMQ queue. */
describe('inference-jobs queue', () => {
  let stack: ServiceStack;
  let connection: Redis;
  let eventsConnection: Redis;
  let queue: Queue;
  let events: QueueEvents;

  beforeAll(async () => {
    stack = await ServiceStack.start({ services: ['inference'] });
    connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const prefix = inferenceJobsPrefix(stack.prefix);
    queue = new Queue(INFERENCE_JOBS_QUEUE, { connection, prefix });
    eventsConnection = connection.duplicate();
    events = new QueueEvents(INFERENCE_JOBS_QUEUE, { connection: eventsConnection, prefix });
    await events.waitUntilReady();
  });

  afterAll(async () => {
    await events?.close();
    await queue?.close();
    await stack?.stop(); // deletes every key under the stack's prefix, the queue's included
    connection?.disconnect();
    eventsConnection?.disconnect();
  });

  const payload = (over: Partial<GenerateJobPayload> = {}): GenerateJobPayload => ({
    model: 'tiny-decoder',
    messages: [{ role: 'user', content: 'Write a line for the chorus.' }],
    params: { maxNewTokens: 12, temperature: 0.8, seed: 11 },
    ...over,
  });

  it('runs a generate job at bulk priority and stores its result', async () => {
    const jobs = await Promise.all([1, 2, 3].map(() => queue.add('generate', payload())));
    const results = (await Promise.all(jobs.map((j) => j.waitUntilFinished(events)))) as GenerateJobResult[];
    for (const r of results) {
      expect(r).toMatchObject({ finishReason: 'length', model: 'tiny-decoder', usage: { completionTokens: 12 } });
      expect(typeof r.text).toBe('string');
    }
    // Same seed and input: the same text, whatever ran beside it.
    expect(new Set(results.map((r) => r.text)).size).toBe(1);
    const stored = await Job.fromId(queue, jobs[0].id as string);
    expect(stored?.returnvalue).toEqual(results[0]);
  });

  it('fails a job with a bad payload at once, naming the field, without retries', async () => {
    const job = await queue.add('generate', { messages: [{ role: 'narrator', content: 'x' }] }, { attempts: 3 });
    await expect(job.waitUntilFinished(events)).rejects.toThrow(/messages\.0\.role/);
    const failed = await Job.fromId(queue, job.id as string);
    expect(failed?.attemptsMade).toBe(1);
    const unknown = await queue.add('summarise', {}, { attempts: 3 });
    await expect(unknown.waitUntilFinished(events)).rejects.toThrow(/unknown job name "summarise"/);
    // The worker keeps serving after bad jobs.
    const ok = await queue.add('generate', payload({ params: { maxNewTokens: 3 } }));
    expect(((await ok.waitUntilFinished(events)) as GenerateJobResult).usage.completionTokens).toBe(3);
  });
});
