import { BYTE_TO_UNICODE, GPT2_SPLIT_PATTERN, RegexPreTokenizer, TokenizerJson, textToByteLevel } from '@troupe/tokenizer';

export interface TrainBpeOptions {
  /** Number of merges to learn at most (stops early when no pair occurs twice). */
  numMerges: number;
  /** Added tokens appended after the vocab, in this order. */
  specialTokens: string[];
}

/**
 * A deliberately tiny byte-level BPE trainer: count pre-token words, then repeatedly merge the
 * most frequent adjacent pair. Ties break on the pair's string so the result is deterministic.
 * Quadratic-ish, which is fine for a few KB of text.
 */
export function trainByteLevelBpe(corpus: string, opts: TrainBpeOptions): TokenizerJson {
  const pre = new RegexPreTokenizer(GPT2_SPLIT_PATTERN);
  const wordCounts = new Map<string, number>();
  for (const piece of pre.split(corpus)) {
    const w = textToByteLevel(piece);
    wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
  }
  // Sorted so iteration order (and thus everything after) does not depend on insertion order.
  const words = [...wordCounts.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([w, count]) => ({ symbols: Array.from(w), count }));

  const vocab: Record<string, number> = {};
  BYTE_TO_UNICODE.forEach((ch, b) => (vocab[ch] = b));
  let nextId = 256;
  const merges: [string, string][] = [];

  while (merges.length < opts.numMerges) {
    const pairCounts = new Map<string, { a: string; b: string; n: number }>();
    for (const { symbols, count } of words) {
      for (let i = 0; i < symbols.length - 1; i++) {
        const key = symbols[i] + '\u0000' + symbols[i + 1];
        const e = pairCounts.get(key);
        if (e) e.n += count;
        else pairCounts.set(key, { a: symbols[i], b: symbols[i + 1], n: count });
      }
    }
    let best: { key: string; a: string; b: string; n: number } | undefined;
    for (const [key, e] of pairCounts) {
      if (!best || e.n > best.n || (e.n === best.n && key < best.key)) best = { key, ...e };
    }
    if (!best || best.n < 2) break;
    const { a, b } = best;
    merges.push([a, b]);
    if (vocab[a + b] === undefined) vocab[a + b] = nextId++;
    for (const w of words) {
      const s = w.symbols;
      const out: string[] = [];
      for (let i = 0; i < s.length; ) {
        if (i < s.length - 1 && s[i] === a && s[i + 1] === b) {
          out.push(a + b);
          i += 2;
        } else out.push(s[i++]);
      }
      w.symbols = out;
    }
  }

  const added_tokens = opts.specialTokens.map((content) => ({
    id: nextId++,
    content,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));

  // Field layout mirrors what Hugging Face `tokenizers` writes, so other tools can load it.
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens,
    normalizer: null,
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    post_processor: null,
    decoder: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    model: {
      type: 'BPE',
      dropout: null,
      unk_token: null,
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: false,
      byte_fallback: false,
      ignore_merges: false,
      vocab,
      merges,
    },
  } as TokenizerJson;
}
