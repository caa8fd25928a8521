import { Inject, Injectable } from '@nestjs/common';
import { APP_LOGGER, Logger } from '@troupe/logging';
import { RoleContextConfig } from '../role-context.config';
import { EstimatingMessageTokenizer, MessageTokenizer, loadModelTokenizer } from './token-counter';

/** One tokenizer per bound model, loaded from MODELS_DIR on first use (an estimate when the model is not here). */
@Injectable()
export class TokenCounterService {
  private readonly byModel = new Map<string, MessageTokenizer>();
  private readonly estimate = new EstimatingMessageTokenizer();

  constructor(
    private readonly config: RoleContextConfig,
    @Inject(APP_LOGGER) private readonly logger: Logger,
  ) {}

  forModel(model: string): MessageTokenizer {
    let tokenizer = this.byModel.get(model);
    if (!tokenizer) {
      const loaded = loadModelTokenizer(this.config.MODELS_DIR, model);
      if (loaded.problem) this.logger.warn({ model, problem: loaded.problem }, 'no tokenizer for the model; token counts are estimates');
      tokenizer = loaded.tokenizer ?? this.estimate;
      this.byModel.set(model, tokenizer);
    }
    return tokenizer;
  }
}
