import { BuildResult, buildTinyDecoder } from './tiny-decoder.build';
import { buildPaced } from './paced.build';
import { buildTinyEmbedder } from './tiny-embedder.build';
import { buildTroupeChat } from './troupe-chat.build';

export { buildTinyDecoder, CHAT_SPECIAL_TOKENS, TINY_DECODER_NAME, TINY_DECODER_REVISION } from './tiny-decoder.build';
export type { BuildResult } from './tiny-decoder.build';
export { buildTinyEmbedder, TINY_EMBEDDER_NAME } from './tiny-embedder.build';
export { buildPaced, PACED_NAME } from './paced.build';
export { buildTroupeChat, readChatCorpus, TROUPE_CHAT_NAME } from './troupe-chat.build';

/** Builds every model the repository ships (the tiny test decoder first: the others reuse its tokenizer). */
export function buildModels(outRoot: string, opts: { force?: boolean } = {}): BuildResult[] {
  return [buildTinyDecoder(outRoot, opts), buildTinyEmbedder(outRoot, opts), buildTroupeChat(outRoot, opts), buildPaced(outRoot, opts)];
}
