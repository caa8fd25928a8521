import { Injectable, OnApplicationShutdown } from '@nestjs/common';
import { AGENT_QUEUES, AgentQueueName } from '@troupe/domain';
import { Redis } from '@troupe/redis';
import { Queue, QueueEvents, Worker, Processor, WorkerOptions } from 'bullmq';
import { SessionConfig } from '../session.config';

/**
 * The one adapter to BullMQ: queues (producers) for every queue of the typed map, workers and
 * QueueEvents on demand, all under the deployment's key prefix.
 */
@Injectable()
export class AgentQueues implements OnApplicationShutdown {
  private readonly queues = new Map<AgentQueueName, Queue>();
  private readonly closers: (() => Promise<void>)[] = [];
  private readonly connections: Redis[] = [];
  readonly prefix: string;

  constructor(private readonly config: SessionConfig) {
    this.prefix = `${config.REDIS_KEY_PREFIX}bull`;
    for (const name of Object.keys(AGENT_QUEUES) as AgentQueueName[]) {
      const queue = new Queue(name, { connection: this.connection(), prefix: this.prefix });
      this.queues.set(name, queue);
    }
  }

  queue(name: AgentQueueName): Queue {
    return this.queues.get(name)!;
  }

  all(): Queue[] {
    return [...this.queues.values()];
  }

  worker(name: AgentQueueName, processor: Processor, options: Omit<WorkerOptions, 'connection' | 'prefix'>): Worker {
    return new Worker(name, processor, { ...options, connection: this.connection(), prefix: this.prefix });
  }

  events(name: AgentQueueName): QueueEvents {
    const events = new QueueEvents(name, { connection: this.connection(), prefix: this.prefix });
    this.closers.push(() => events.close());
    return events;
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.allSettled([...this.closers.map((c) => c()), ...this.all().map((q) => q.close())]);
    // BullMQ leaves connections it was handed open.
    await Promise.allSettled(this.connections.map((c) => c.quit().catch(() => c.disconnect())));
  }

  /** BullMQ wants connections of its own, without ioredis' keyPrefix and retrying forever. */
  private connection(): Redis {
    const connection = new Redis(this.config.REDIS_URL, { maxRetriesPerRequest: null, connectionName: 'session-bullmq' });
    this.connections.push(connection);
    return connection;
  }
}
