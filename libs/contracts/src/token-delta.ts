import type { TokenDelta } from './generated/troupe/inference/v1/inference';

/** Tokens a streamed TokenDelta carries (a delta from a sender older than `token_ids` is one token). */
export function tokenDeltaCount(delta: Pick<TokenDelta, 'tokenIds'>): number {
  return delta.tokenIds?.length || 1;
}
