import { BuildResult, buildTinyDecoder } from './tiny-decoder.build';

export { buildTinyDecoder, CHAT_SPECIAL_TOKENS, TINY_DECODER_NAME, TINY_DECODER_REVISION } from './tiny-decoder.build';
export type { BuildResult } from './tiny-decoder.build';

/** Builds every model the repository ships (currently the tiny test decoder). */
export function buildModels(outRoot: string, opts: { force?: boolean } = {}): BuildResult[] {
  return [buildTinyDecoder(outRoot, opts)];
}
