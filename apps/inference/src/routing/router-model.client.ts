import { status } from '@grpc/grpc-js';
import { UpstreamError } from '../remote/upstream-error';
import type { ExecutionProviderStatus } from '../runtime/causal-lm.session';
import type { GenerationSink } from '../runtime/generation-worker.client';
import type { DoneEvent, EngineStats, GenerateRequest } from '../runtime/generation.types';
import { readManifestJson } from '../runtime/manifest-fields';
import { ChatGenerateRequest, TextModel, fitRequest } from '../runtime/text-model';
import { CircuitBreaker } from './circuit-breaker';
import { RetryPolicy } from './retry-policy';
import { RouterManifest, parseRouterManifest } from './router-manifest';

/** Finds a ready text model by name (the registry); throws when it is not served. */
export type ModelResolver = (name: string) => TextModel;

/** Done reasons that mean the backend failed (rather than the client or the deadline). */
const FAILED: ReadonlySet<DoneEvent['finishReason']> = new Set(['error', 'rejected']);

/**
 * A `router` model: sends each request to one of its targets — the primary then its fallbacks
 * in order, or one picked by weight then the others by weight — skipping targets whose
 * circuit breaker is open. A failure before any token reached the client is retried on the
 * next target after a jittered backoff; after a token, the failure goes to the client as is.
 */
export class RouterModelClient implements TextModel {
  readonly executionProvider: ExecutionProviderStatus = { requested: [], active: 'none' };
  private readonly breakers: Map<string, CircuitBreaker>;
  private readonly retry: RetryPolicy;
  private open = 0;

  constructor(
    readonly manifest: RouterManifest,
    private readonly resolve: ModelResolver,
    private readonly random: () => number = Math.random,
    now: () => number = Date.now,
  ) {
    this.breakers = new Map(manifest.targets.map((t) => [t.model, new CircuitBreaker(manifest.breaker, now)]));
    this.retry = new RetryPolicy(manifest.retry, random);
  }

  static async start(modelDir: string, resolve: ModelResolver): Promise<RouterModelClient> {
    return new RouterModelClient(parseRouterManifest(readManifestJson(modelDir).json), resolve);
  }

  get openStreams(): number {
    return this.open;
  }

  /** The breaker state of each target (for tests and status). */
  breakerStates(): Record<string, string> {
    return Object.fromEntries([...this.breakers].map(([model, b]) => [model, b.state]));
  }

  onStats(_listener: (s: EngineStats, batchSizes: readonly number[]) => void): () => void {
    return () => undefined;
  }

  submit(req: GenerateRequest, sink: GenerationSink): () => void {
    const chat: ChatGenerateRequest = { ...req, messages: req.messages ?? [] };
    const order = this.order();
    const tried: string[] = [];
    let position = 0;
    let attempts = 0;
    let tokensSent = 0;
    let cancelAttempt: (() => void) | undefined;
    let backoff: NodeJS.Timeout | undefined;
    let current: CircuitBreaker | undefined;
    let finished = false;
    let lastError = '';
    this.open++;
    const end = (deliver: () => void) => {
      if (finished) return;
      finished = true;
      this.open--;
      deliver();
    };

    /** After a failure: another attempt if the rule allows it, else the failure goes to the client. */
    const failed = (error: UpstreamError, deliver: () => void) => {
      current?.record(false);
      current = undefined;
      lastError = error.message;
      const wait = this.retry.delayMs(attempts, error.retryAfterMs);
      const pastDeadline = req.deadlineAt !== undefined && Date.now() + wait >= req.deadlineAt;
      if (!this.retry.mayRetry(attempts, tokensSent) || pastDeadline) return end(deliver);
      backoff = setTimeout(attempt, wait);
    };

    const attempt = () => {
      if (finished) return;
      const next = this.nextAvailable(order, position);
      if (!next) {
        const why = `${this.manifest.name}: no target available (circuit open)${lastError ? `; last failure: ${lastError}` : ''}`;
        return end(() => sink.fail(new UpstreamError(status.UNAVAILABLE, why)));
      }
      position = next.position + 1;
      current = next.breaker;
      attempts++;
      tried.push(next.model);
      let target: TextModel;
      try {
        target = this.resolve(next.model);
        if (target.manifest.kind === 'router') throw new Error(`model "${next.model}" is a router; routers do not nest`);
      } catch (e) {
        const error = new UpstreamError(status.UNAVAILABLE, `${next.model}: ${(e as Error).message}`);
        return failed(error, () => sink.fail(error));
      }
      const breaker = next.breaker;
      cancelAttempt = target.submit(fitRequest(target, chat), {
        push: (event) => {
          if (finished || current !== breaker) return;
          if (event.type === 'token') {
            tokensSent += event.tokenIds.length;
            return sink.push(event);
          }
          if (FAILED.has(event.finishReason)) {
            const code = event.finishReason === 'rejected' ? status.RESOURCE_EXHAUSTED : status.INTERNAL;
            return failed(new UpstreamError(code, `${next.model}: ${event.error ?? event.finishReason}`), () => sink.push(event));
          }
          if (event.finishReason === 'cancelled' || event.finishReason === 'deadline') breaker.release();
          else breaker.record(true);
          current = undefined;
          end(() => sink.push(event));
        },
        fail: (err) => {
          if (finished || current !== breaker) return;
          const error = err instanceof UpstreamError ? err : new UpstreamError(status.UNAVAILABLE, err.message);
          const named = new UpstreamError(error.code, `${next.model}: ${error.message}`, error.retryAfterMs);
          failed(named, () => sink.fail(named));
        },
      });
    };

    attempt();
    return () => {
      clearTimeout(backoff);
      current?.release();
      current = undefined;
      cancelAttempt?.();
      end(() => undefined);
    };
  }

  async drainAndClose(): Promise<void> {
    while (this.open > 0) await new Promise((r) => setTimeout(r, 20));
  }

  /** Targets belong to the registry; nothing of the router's own to close. */
  async close(): Promise<void> {
    return undefined;
  }

  /** Target names in the order this request tries them. */
  private order(): string[] {
    const targets = this.manifest.targets;
    if (this.manifest.strategy === 'fallback') return targets.map((t) => t.model);
    const total = targets.reduce((s, t) => s + t.weight, 0);
    let pick = this.random() * total;
    const first = targets.find((t) => (pick -= t.weight) < 0) ?? targets[targets.length - 1];
    const rest = targets.filter((t) => t !== first).sort((a, b) => b.weight - a.weight);
    return [first, ...rest].map((t) => t.model);
  }

  /** The first target from `start` on (wrapping around) whose breaker lets a call through. */
  private nextAvailable(order: string[], start: number): { model: string; position: number; breaker: CircuitBreaker } | undefined {
    for (let i = 0; i < order.length; i++) {
      const position = (start + i) % order.length;
      const breaker = this.breakers.get(order[position]) as CircuitBreaker;
      if (breaker.tryAcquire()) return { model: order[position], position, breaker };
    }
    return undefined;
  }
}
