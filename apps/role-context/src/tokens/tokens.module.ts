import { Module } from '@nestjs/common';
import { TokenCounterService } from './token-counter.service';

/** Token counting with each bound model's own tokenizer. */
@Module({
  providers: [TokenCounterService],
  exports: [TokenCounterService],
})
export class TokensModule {}
