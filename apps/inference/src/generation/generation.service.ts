import { Inject, Injectable } from '@nestjs/common';
import { status } from '@grpc/grpc-js';
import { inference } from '@troupe/contracts';
import { grpcError } from '@troupe/grpc';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { TickGrid, TickHandle } from '@troupe/timing';
import { AsyncResource } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import { InferenceConfig } from '../inference.config';
import { ModelRegistryService } from '../models/model-registry.service';
import { UpstreamError } from '../remote/upstream-error';
import { fitRequest } from '../runtime/text-model';
import type { DoneEvent, FinishReason, TokenEvent } from '../runtime/generation.types';
import { Observable } from 'rxjs';
import { GenerateRequestDto } from './dto/generate-request.dto';
import { GenerationTrace } from './generation-trace';
import { InferenceMetrics } from '../metrics/inference.metrics';

const DEFAULT_MAX_NEW_TOKENS = 128;

/** Finish reasons that fail the call, with the gRPC status each maps to. */
const FAILURES: Partial<Record<FinishReason, status>> = {
  deadline: status.DEADLINE_EXCEEDED,
  rejected: status.RESOURCE_EXHAUSTED,
  error: status.INTERNAL,
};

/** Where a stream is written, when it can tell it is backed up: a gRPC server call (a Node Writable). */
export interface StreamOutlet {
  /** True once write() has returned false, until 'drain'. */
  readonly writableNeedDrain: boolean;
  once(event: 'drain', listener: () => void): unknown;
}

@Injectable()
export class GenerationService {
  /**
   * Held tokens of every call with the same stream interval go out on one grid: their messages
   * share a tick, so HTTP/2 writes them to a connection in one burst instead of one write per call.
   * One grid per interval value (validated 0–5000 ms, so bounded).
   */
  private readonly grids = new Map<number, TickGrid>();

  constructor(
    private readonly models: ModelRegistryService,
    private readonly config: InferenceConfig,
    private readonly metrics: InferenceMetrics,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  /**
   * Streams token deltas then one `done` event carrying the whole text and usage. A missed
   * deadline, a full queue or a worker error end the stream with the matching gRPC status.
   * `callDeadline` (epoch ms) is the gRPC call's own deadline when it has one. Unsubscribing
   * cancels the request in the worker. Push-based end to end: a token costs no promise here.
   * While `outlet` (the gRPC call) has more written than it has sent, new tokens are held and
   * go out as one delta when it drains: a slow reader gets fewer, larger messages. With a
   * `streamIntervalMs`, tokens after the first also wait until that long after the last delta
   * (the caller takes them at that pace anyway: each message costs both ends far more than the
   * tokens it carries).
   */
  generate(request: GenerateRequestDto, callDeadline?: number, outlet?: StreamOutlet): Observable<inference.GenerateResponse> {
    return new Observable((subscriber) => {
      const model = this.models.get(request.model);
      const name = model.manifest.name;
      const params = request.params;
      const deadlines = [Date.now() + (request.timeoutMs || this.config.INFERENCE_DEFAULT_TIMEOUT_MS)];
      if (callDeadline !== undefined && Number.isFinite(callDeadline)) deadlines.push(callDeadline);
      const timing = this.metrics.request(name);
      const requestId = request.requestId || randomUUID();
      const priority = request.priority || 'interactive';
      const maxNewTokens = Math.min(params.maxNewTokens || DEFAULT_MAX_NEW_TOKENS, this.config.MAX_NEW_TOKENS_LIMIT);
      const trace = new GenerationTrace(name, { requestId, priority, maxNewTokens });
      let text = '';
      let held: TokenEvent | undefined;
      let sentAt = 0;
      let holdTimer: TickHandle | undefined;
      const send = (d: TokenEvent) => {
        sentAt = Date.now();
        subscriber.next({ token: { index: d.index, tokenId: d.tokenIds[0] ?? 0, text: d.text, tokenIds: d.tokenIds } });
      };
      /** Sends what is held (at the end: before `done`, whatever the outlet's state). */
      const flushHeld = () => {
        holdTimer?.cancel();
        holdTimer = undefined;
        const d = held;
        held = undefined;
        if (d) send(d);
      };
      // The interval passed or the call drained: held tokens go, unless the call is backed up.
      const release = () => {
        if (held && outlet?.writableNeedDrain) return void outlet.once('drain', release);
        flushHeld();
      };
      // Worker messages arrive outside the call's async context: the logging part runs in it.
      // (One resource per call: AsyncResource.bind per callback costs more than the rest of a request.)
      const callContext = new AsyncResource('troupe.generate');
      const onDone = (event: DoneEvent) => callContext.runInAsyncScope(finish, null, event);
      const finish = (event: DoneEvent) => {
        timing.done(event.finishReason, event.promptTokens, event.queueMs);
        trace.done(event);
        this.logger.info(
          { model: name, finishReason: event.finishReason, promptTokens: event.promptTokens, completionTokens: event.completionTokens, queueMs: event.queueMs },
          'generation finished',
        );
        const failure = FAILURES[event.finishReason];
        if (failure !== undefined) return subscriber.error(grpcError(failure, `${name}: ${event.error ?? event.finishReason}`));
        flushHeld();
        subscriber.next({
          done: {
            finishReason: event.finishReason,
            usage: { promptTokens: event.promptTokens, completionTokens: event.completionTokens },
            text,
            model: name,
          },
        });
        subscriber.complete();
      };
      const chat = {
        requestId,
        messages: request.messages,
        maxNewTokens,
        temperature: params.temperature,
        topK: params.topK,
        topP: params.topP || 1,
        seed: params.seed || undefined,
        stopSequences: params.stop,
        repetitionPenalty: params.repetitionPenalty || 1,
        priority,
        deadlineAt: Math.min(...deadlines),
      };
      const cancel = trace.run(() => model.submit(fitRequest(model, chat), {
        push: (event) => {
          if (event.type === 'done') return onDone(event);
          timing.tokens(event.tokenIds.length);
          trace.token();
          text += event.text;
          if (held) {
            held.tokenIds.push(...event.tokenIds);
            held.text += event.text;
            return;
          }
          const wait = event.index > 0 ? sentAt + request.streamIntervalMs - Date.now() : 0;
          if (outlet?.writableNeedDrain) {
            held = { ...event, tokenIds: [...event.tokenIds] };
            outlet.once('drain', release);
          } else if (wait > 0) {
            held = { ...event, tokenIds: [...event.tokenIds] };
            holdTimer = this.gridOf(request.streamIntervalMs).after(wait, release);
          } else send(event);
        },
        // Remote backends and routers say which status fits; a dead local worker is UNAVAILABLE.
        fail: (err: Error) =>
          callContext.runInAsyncScope(() => {
            const code = err instanceof UpstreamError ? err.code : status.UNAVAILABLE;
            this.logger.warn({ model: name, code: status[code], err: err.message }, 'generation failed');
            trace.failed(err);
            subscriber.error(grpcError(code, `${name}: ${err.message}`));
          }),
      }));
      return () => {
        holdTimer?.cancel();
        trace.abandoned();
        cancel();
      };
    });
  }

  countTokens(modelName: string, texts: string[]): number[] {
    const model = this.models.get(modelName);
    const tokenizer = model.tokenizer;
    if (!tokenizer) throw grpcError(status.FAILED_PRECONDITION, `model "${model.manifest.name}" is a ${model.manifest.kind} model: its tokenizer is not known here`);
    return texts.map((t) => tokenizer.encode(t).length);
  }

  private gridOf(intervalMs: number): TickGrid {
    let grid = this.grids.get(intervalMs);
    if (!grid) {
      grid = new TickGrid(intervalMs);
      this.grids.set(intervalMs, grid);
    }
    return grid;
  }
}
