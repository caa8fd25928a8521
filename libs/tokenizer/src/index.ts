export { ByteLevelBpeTokenizer } from './byte-level-bpe.tokenizer';
export type { TokenizerJson, EncodeOptions, DecodeOptions } from './byte-level-bpe.tokenizer';
export { StreamingDetokenizer } from './streaming-detokenizer';
export { BYTE_TO_UNICODE, textToByteLevel, byteLevelToBytes } from './byte-level';
export { GPT2_SPLIT_PATTERN, RegexPreTokenizer, preTokenizerFromConfig } from './pre-tokenizer';
export type { PreTokenizer } from './pre-tokenizer';
