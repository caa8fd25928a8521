import { Inject, Injectable } from '@nestjs/common';
import { AgentRunPayload, AgentRunRecord, AgentWebhookPayload } from '@troupe/domain';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { createHmac } from 'node:crypto';
import { SessionEventsService } from '../events/session-events.service';
import { SessionConfig } from '../session.config';
import { AgentQueues } from './agent-queues';
import { AgentRunStore } from './agent-run.store';

/** The signature header value of a webhook body: `sha256=<hex HMAC of the raw body>`. */
export function signWebhook(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/**
 * Announces a run's end (called once per run, by whoever claimed its completion): into the
 * session's event log, and to its webhook through a queue of its own so POSTs are retried.
 * BullMQ's QueueEvents announce it too ("completed"/"failed" on the queue's event stream).
 */
@Injectable()
export class AgentAnnouncer {
  constructor(
    private readonly store: AgentRunStore,
    private readonly events: SessionEventsService,
    private readonly queues: AgentQueues,
    private readonly config: SessionConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  /** `known`: the run as its caller just stored it, which saves reading it back. */
  async announce(
    runId: string,
    payload: Pick<AgentRunPayload, 'webhookUrl'>,
    known?: Pick<AgentRunRecord, 'sessionId' | 'role' | 'status' | 'result' | 'error'>,
  ): Promise<void> {
    const run = known ?? (await this.store.get(runId));
    if (!run) return;
    if (run.sessionId) {
      this.events.publish(run.sessionId, 'agent.run', { sessionId: run.sessionId, runId, role: run.role, status: run.status, text: run.result?.text ?? '', error: run.error });
    }
    if (payload.webhookUrl) {
      const data: AgentWebhookPayload = { runId, url: payload.webhookUrl };
      await this.queues.queue('agent-webhooks').add('agent.webhook', data, {
        jobId: `webhook.${runId}`,
        attempts: this.config.AGENT_WEBHOOK_ATTEMPTS,
        backoff: { type: 'exponential', delay: 1000 },
        removeOnComplete: { age: this.config.AGENT_RUN_RETENTION_SECONDS },
        removeOnFail: { age: this.config.AGENT_RUN_RETENTION_SECONDS },
      });
    }
  }

  /** One POST of the run as stored; a non-2xx answer throws so BullMQ retries with backoff. */
  async postWebhook(payload: AgentWebhookPayload): Promise<{ status: number }> {
    const run = await this.store.get(payload.runId);
    if (!run) return { status: 0 };
    const body = JSON.stringify({ runId: run.runId, status: run.status, role: run.role, sessionId: run.sessionId, result: run.result ?? null, error: run.error });
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-troupe-run-id': run.runId };
    if (this.config.AGENT_WEBHOOK_SECRET) headers['x-troupe-signature'] = signWebhook(this.config.AGENT_WEBHOOK_SECRET, body);
    const response = await fetch(payload.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
    if (!response.ok) throw new Error(`webhook answered ${response.status}`);
    this.logger.info({ runId: run.runId, status: response.status }, 'webhook delivered');
    return { status: response.status };
  }
}
