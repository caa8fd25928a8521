import type { ByteLevelBpeTokenizer } from './byte-level-bpe.tokenizer';

/**
 * Turns a stream of token ids into text deltas. A byte-level token can end in the middle of a
 * multi-byte character, so bytes are held (by TextDecoder's stream mode) until the code point
 * completes; the concatenated deltas plus flush() equal tokenizer.decode(allIds).
 */
export class StreamingDetokenizer {
  private readonly decoder = new TextDecoder('utf-8');
  private readonly skipSpecialTokens: boolean;

  constructor(
    private readonly tokenizer: ByteLevelBpeTokenizer,
    opts: { skipSpecialTokens?: boolean } = {},
  ) {
    this.skipSpecialTokens = opts.skipSpecialTokens ?? true;
  }

  /** Adds one token; returns the newly completed text (possibly ''). */
  push(id: number): string {
    if (this.skipSpecialTokens && this.tokenizer.isSpecial(id)) return '';
    return this.decoder.decode(this.tokenizer.tokenBytes(id), { stream: true });
  }

  /** Ends the stream: any incomplete trailing bytes come out as U+FFFD. */
  flush(): string {
    return this.decoder.decode();
  }
}
