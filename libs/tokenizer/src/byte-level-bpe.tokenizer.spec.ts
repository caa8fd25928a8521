import { BYTE_TO_UNICODE, ByteLevelBpeTokenizer, StreamingDetokenizer, TokenizerJson } from './index';

const SPECIALS = ['<|endoftext|>', '<|system|>', '<|user|>', '<|assistant|>', '<|end|>'];

/** A small byte-level tokenizer: 256 byte tokens, the given merges, the chat special tokens. */
function makeJson(merges: TokenizerJson['model']['merges']): TokenizerJson {
  const vocab: Record<string, number> = {};
  BYTE_TO_UNICODE.forEach((ch, b) => (vocab[ch] = b));
  let next = 256;
  for (const m of merges) {
    const [a, b] = typeof m === 'string' ? m.split(' ') : m;
    if (vocab[a + b] === undefined) vocab[a + b] = next++;
  }
  return {
    model: { type: 'BPE', vocab, merges },
    added_tokens: SPECIALS.map((content, i) => ({ id: next + i, content, special: true })),
    pre_tokenizer: { type: 'ByteLevel', add_prefix_space: false, use_regex: true },
  };
}

const MERGES = ['Ġ t', 'h e', 'Ġt he', 'i n', 'Ġ a', 'e r', 'Ġ w', 'o r', 'Ġw or', 'l d', 'Ġwor ld'];

describe('ByteLevelBpeTokenizer', () => {
  const tok = ByteLevelBpeTokenizer.fromJSON(makeJson(MERGES));

  it('round-trips arbitrary unicode', () => {
    const samples = [
      'Hello, world!',
      'the quick brown fox\n\njumps  over\tthe lazy dog  ',
      'emoji: 😀👩‍👩‍👧‍👦🏳️‍🌈 and CJK: 你好，世界。日本語のテキスト',
      'mixed ñ é ß ø Ω ∑ — “quotes” \u0000 \r\n end',
      '',
    ];
    for (const s of samples) expect(tok.decode(tok.encode(s))).toBe(s);
  });

  it('applies merges in rank order', () => {
    expect(tok.encode(' the world').map((id) => tok.idToToken(id))).toEqual(['Ġthe', 'Ġworld']);
    const ab = ByteLevelBpeTokenizer.fromJSON(makeJson(['a b', 'b c']));
    const bc = ByteLevelBpeTokenizer.fromJSON(makeJson([['b', 'c'], ['a', 'b']]));
    expect(ab.encode('abc').map((id) => ab.idToToken(id))).toEqual(['ab', 'c']);
    expect(bc.encode('abc').map((id) => bc.idToToken(id))).toEqual(['a', 'bc']);
  });

  it('does not merge across pre-token boundaries', () => {
    const pieces = (s: string) => tok.encode(s).map((id) => tok.idToToken(id));
    // No "t he" merge exists: without the leading space "the" stays split.
    expect(pieces('xthe')).toEqual(['x', 't', 'he']);
    expect(pieces('a the')).toEqual(['a', 'Ġthe']);
    // "e" and "r" sit in different pre-tokens (letters vs punctuation), so "er" cannot form.
    expect(pieces('he.r')).toEqual(['he', '.', 'r']);
  });

  it('encodes special tokens as single ids and can skip them when decoding', () => {
    const end = tok.tokenToId('<|end|>') as number;
    const eot = tok.tokenToId('<|endoftext|>') as number;
    const user = tok.tokenToId('<|user|>') as number;
    const ids = tok.encode('<|user|>\nhi<|end|><|endoftext|>');
    expect(ids[0]).toBe(user);
    expect(ids.slice(-2)).toEqual([end, eot]);
    expect(tok.decode(ids)).toBe('<|user|>\nhi<|end|><|endoftext|>');
    expect(tok.decode(ids, { skipSpecialTokens: true })).toBe('\nhi');
    expect(tok.idToToken(end)).toBe('<|end|>');
    expect(tok.isSpecial(end)).toBe(true);
  });

  it('treats special tokens as plain text when parsing is off', () => {
    const ids = tok.encode('say <|end|>', { parseSpecialTokens: false });
    expect(ids).not.toContain(tok.tokenToId('<|end|>'));
    expect(tok.decode(ids)).toBe('say <|end|>');
  });

  it('reports vocab size and rejects non-BPE or non-byte-level files', () => {
    expect(tok.vocabSize).toBe(256 + MERGES.length + SPECIALS.length);
    expect(tok.idToToken(tok.vocabSize)).toBeUndefined();
    expect(() => ByteLevelBpeTokenizer.fromJSON({ model: { type: 'WordPiece' } })).toThrow(/BPE/);
    expect(() => ByteLevelBpeTokenizer.fromJSON({ model: { type: 'BPE', vocab: { a: 0 }, merges: [] } })).toThrow(/byte-level/);
    expect(() => tok.decode([999999])).toThrow(RangeError);
  });

  it('supports Split regex pre-tokenizers with inline case-insensitive groups', () => {
    const json = makeJson(MERGES);
    json.pre_tokenizer = {
      type: 'Sequence',
      pretokenizers: [
        {
          type: 'Split',
          pattern: { Regex: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+" },
          behavior: 'Isolated',
          invert: false,
        },
        { type: 'ByteLevel', add_prefix_space: false, use_regex: false },
      ],
    };
    const t = ByteLevelBpeTokenizer.fromJSON(json);
    const s = "IT'S 12345 the world's\nend";
    expect(t.decode(t.encode(s))).toBe(s);
  });
});

describe('StreamingDetokenizer', () => {
  const tok = ByteLevelBpeTokenizer.fromJSON(makeJson(MERGES));

  it('emits deltas that concatenate to the full decode and never split a code point', () => {
    const text = '<|assistant|>\nHi 😀 你好 — “ok”<|end|> ñ';
    const ids = tok.encode(text);
    for (const skip of [true, false]) {
      const d = new StreamingDetokenizer(tok, { skipSpecialTokens: skip });
      const deltas = ids.map((id) => d.push(id));
      deltas.push(d.flush());
      expect(deltas.join('')).toBe(tok.decode(ids, { skipSpecialTokens: skip }));
      for (const delta of deltas) expect(delta).not.toContain('\uFFFD');
    }
  });

  it('holds partial bytes until the character completes', () => {
    // Byte tokens (ids 0..255 are raw bytes here) for U+1F600 = F0 9F 98 80.
    const d = new StreamingDetokenizer(tok);
    expect([0xf0, 0x9f, 0x98].map((b) => d.push(b))).toEqual(['', '', '']);
    expect(d.push(0x80)).toBe('😀');
    expect(d.push(0xe4)).toBe('');
    expect(d.flush()).toBe('\uFFFD');
  });
});
