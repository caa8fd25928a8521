import { EventEmitter } from 'node:events';
import { inference } from '@troupe/contracts';
import { validateGrpcRequest } from '@troupe/grpc';
import { createLogger } from '@troupe/logging';
import { MetricsService } from '@troupe/metrics';
import { InferenceConfig } from '../inference.config';
import { InferenceMetrics } from '../metrics/inference.metrics';
import type { ModelRegistryService, TextModel } from '../models/model-registry.service';
import type { GenerationSink } from '../runtime/generation-worker.client';
import { GenerateRequestDto } from './dto/generate-request.dto';
import { GenerationService, StreamOutlet } from './generation.service';

/** A model whose events the test pushes by hand. */
function handModel(): { model: TextModel; sink: () => GenerationSink } {
  let sink: GenerationSink | undefined;
  const model = {
    manifest: { name: 'hand', version: '1', kind: 'paced', contextLength: 4096 },
    executionProvider: { requested: [], active: 'none' },
    openStreams: 0,
    onStats: () => () => undefined,
    submit: (_req: unknown, s: GenerationSink) => ((sink = s), () => undefined),
    drainAndClose: async () => undefined,
    close: async () => undefined,
  } as TextModel;
  return { model, sink: () => sink as GenerationSink };
}

/** A gRPC call stand-in: backed up while `writableNeedDrain` is set, 'drain' when it clears. */
class FakeCall extends EventEmitter implements StreamOutlet {
  writableNeedDrain = false;
}

describe('GenerationService streaming', () => {
  const setup = (streamIntervalMs = 0) => {
    const { model, sink } = handModel();
    const registry = { get: () => model } as unknown as ModelRegistryService;
    const service = new GenerationService(registry, new InferenceConfig(), new InferenceMetrics(new MetricsService('test')), createLogger('test', 'silent'));
    const request = validateGrpcRequest(GenerateRequestDto, { model: 'hand', messages: [{ role: 'user', content: 'hi' }], params: {}, streamIntervalMs });
    const call = new FakeCall();
    const out: inference.GenerateResponse[] = [];
    service.generate(request, undefined, call).subscribe((r) => out.push(r));
    const token = (index: number, id: number, text: string) => sink().push({ type: 'token', tokenIds: [id], text, index });
    return { sink, call, out, token };
  };

  it('writes each delta at once while the call keeps up', () => {
    const { out, token } = setup();
    token(0, 7, 'He');
    token(1, 8, 'llo');
    expect(out).toEqual([{ token: { index: 0, tokenId: 7, tokenIds: [7], text: 'He' } }, { token: { index: 1, tokenId: 8, tokenIds: [8], text: 'llo' } }]);
  });

  it('holds tokens while the call needs drain and writes them as one delta on drain, and before done', () => {
    const { sink, call, out, token } = setup();
    token(0, 7, 'He');
    call.writableNeedDrain = true;
    token(1, 8, 'l');
    token(2, 9, 'lo');
    expect(out).toHaveLength(1);
    call.writableNeedDrain = false;
    call.emit('drain');
    expect(out[1]).toEqual({ token: { index: 1, tokenId: 8, tokenIds: [8, 9], text: 'llo' } });

    call.writableNeedDrain = true;
    token(3, 10, '!');
    sink().push({ type: 'done', finishReason: 'length', promptTokens: 3, completionTokens: 4 });
    expect(out.slice(2)).toEqual([
      { token: { index: 3, tokenId: 10, tokenIds: [10], text: '!' } },
      { done: { finishReason: 'length', usage: { promptTokens: 3, completionTokens: 4 }, text: 'Hello!', model: 'hand' } },
    ]);
  });

  describe('with the caller\'s stream interval', () => {
    // A clock on the 50 ms grid the held tokens go out on.
    beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
    afterEach(() => jest.useRealTimers());

    it('sends the first token at once, then the tokens of each interval as one delta, and what waits before done', () => {
      const { sink, out, token } = setup(50);
      token(0, 7, 'He');
      token(1, 8, 'l');
      token(2, 9, 'l');
      expect(out).toEqual([{ token: { index: 0, tokenId: 7, tokenIds: [7], text: 'He' } }]);
      jest.advanceTimersByTime(50);
      expect(out[1]).toEqual({ token: { index: 1, tokenId: 8, tokenIds: [8, 9], text: 'll' } });
      token(3, 10, 'o');
      expect(out).toHaveLength(2);
      sink().push({ type: 'done', finishReason: 'length', promptTokens: 3, completionTokens: 4 });
      expect(out.slice(2)).toEqual([
        { token: { index: 3, tokenId: 10, tokenIds: [10], text: 'o' } },
        { done: { finishReason: 'length', usage: { promptTokens: 3, completionTokens: 4 }, text: 'Hello', model: 'hand' } },
      ]);
    });

    it('refuses an interval over 5 s, naming the field', () => {
      expect(() => validateGrpcRequest(GenerateRequestDto, { model: 'hand', messages: [{ role: 'user', content: 'hi' }], streamIntervalMs: 6000 })).toThrow(/streamIntervalMs/);
    });
  });
});
