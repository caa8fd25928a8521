import { Inject, Injectable } from '@nestjs/common';
import { inference } from '@troupe/contracts';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { MetricsService } from '@troupe/metrics';
import { randomUUID } from 'node:crypto';
import { InferenceConfig } from '../inference.config';
import { ModelRegistryService } from '../models/model-registry.service';
import { renderChatPrompt } from '../runtime/chat-template';
import { GenerateRequestDto } from './dto/generate-request.dto';

const DEFAULT_MAX_NEW_TOKENS = 128;

@Injectable()
export class GenerationService {
  private readonly generatedTokens;
  private readonly timeToFirstToken;

  constructor(
    private readonly models: ModelRegistryService,
    private readonly config: InferenceConfig,
    metrics: MetricsService,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {
    this.generatedTokens = metrics.counter('troupe_generated_tokens_total', 'Tokens generated', ['model']);
    this.timeToFirstToken = metrics.histogram('troupe_time_to_first_token_seconds', 'From request to first token', ['model'], [
      0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5,
    ]);
  }

  /** Streams token events then one `done` event carrying the whole text and usage. */
  async *generate(request: GenerateRequestDto, signal: AbortSignal): AsyncGenerator<inference.GenerateResponse> {
    const model = this.models.get(request.model);
    const name = model.manifest.name;
    const promptTokenIds = model.tokenizer.encode(renderChatPrompt(request.messages));
    const eos = model.tokenizer.tokenToId(model.manifest.eosToken);
    const params = request.params;
    const started = process.hrtime.bigint();
    let text = '';
    for await (const event of model.generate(
      {
        requestId: request.requestId || randomUUID(),
        promptTokenIds,
        maxNewTokens: Math.min(params.maxNewTokens || DEFAULT_MAX_NEW_TOKENS, this.config.MAX_NEW_TOKENS_LIMIT),
        temperature: params.temperature,
        topK: params.topK,
        topP: params.topP || 1,
        seed: params.seed || undefined,
        stopTokenIds: eos === undefined ? [] : [eos],
      },
      signal,
    )) {
      if (event.type === 'token') {
        if (event.index === 0) this.timeToFirstToken.observe({ model: name }, Number(process.hrtime.bigint() - started) / 1e9);
        this.generatedTokens.inc({ model: name });
        text += event.text;
        yield { token: { index: event.index, tokenId: event.tokenId, text: event.text } };
      } else {
        this.logger.info(
          { model: name, finishReason: event.finishReason, promptTokens: event.promptTokens, completionTokens: event.completionTokens },
          'generation finished',
        );
        if (event.finishReason === 'error') throw new Error(event.error ?? 'generation failed');
        yield {
          done: {
            finishReason: event.finishReason,
            usage: { promptTokens: event.promptTokens, completionTokens: event.completionTokens },
            text,
            model: name,
          },
        };
      }
    }
  }

  countTokens(modelName: string, texts: string[]): number[] {
    const model = this.models.get(modelName);
    return texts.map((t) => model.tokenizer.encode(t).length);
  }
}
