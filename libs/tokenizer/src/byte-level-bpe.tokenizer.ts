import { readFileSync } from 'node:fs';
import { BYTE_TO_UNICODE, byteLevelToBytes, textToByteLevel } from './byte-level';
import { PreTokenizer, preTokenizerFromConfig } from './pre-tokenizer';

/** The parts of a Hugging Face tokenizer.json this tokenizer reads. */
export interface TokenizerJson {
  model: {
    type: string;
    vocab: Record<string, number>;
    merges: (string | [string, string])[];
    ignore_merges?: boolean;
    unk_token?: string | null;
  };
  added_tokens?: { id: number; content: string; special?: boolean }[];
  normalizer?: { type?: string } | null;
  pre_tokenizer?: unknown;
}

export interface EncodeOptions {
  /**
   * Match special added tokens (e.g. `<|end|>`) in the text. Turn off for untrusted content
   * so a user cannot forge control tokens by typing them.
   */
  parseSpecialTokens?: boolean;
}

export interface DecodeOptions {
  skipSpecialTokens?: boolean;
}

interface AddedToken {
  id: number;
  content: string;
  special: boolean;
}

const utf8Encoder = new TextEncoder();
const BPE_CACHE_LIMIT = 50_000;

/**
 * Byte-level BPE (GPT-2 family) as described by a Hugging Face tokenizer.json: added tokens are
 * split out first, the rest is pre-tokenized, mapped byte-to-unicode and merged by merge rank.
 */
export class ByteLevelBpeTokenizer {
  /** Highest id + 1 over vocab and added tokens (the logits width a model should have). */
  readonly vocabSize: number;

  private readonly vocab: Map<string, number>;
  private readonly idToTokenStr: (string | undefined)[];
  /** Merge rank of pair (a, b), nested so tokens may contain any character. */
  private readonly ranks = new Map<string, Map<string, number>>();
  private readonly added = new Map<number, AddedToken>();
  private readonly addedByContent = new Map<string, number>();
  private readonly specialRegex: RegExp | undefined;
  private readonly plainAddedRegex: RegExp | undefined;
  private readonly preTokenizer: PreTokenizer;
  private readonly normalize: (s: string) => string;
  private readonly ignoreMerges: boolean;
  private readonly unkId: number | undefined;
  private readonly bpeCache = new Map<string, number[]>();
  private readonly bytesCache: (Uint8Array | undefined)[] = [];

  static fromFile(path: string): ByteLevelBpeTokenizer {
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(path, 'utf8'));
    } catch (err) {
      throw new Error(`tokenizer: cannot read ${path}: ${(err as Error).message}`);
    }
    return ByteLevelBpeTokenizer.fromJSON(json);
  }

  static fromJSON(json: unknown): ByteLevelBpeTokenizer {
    return new ByteLevelBpeTokenizer(json);
  }

  private constructor(json: unknown) {
    const tj = json as TokenizerJson;
    const model = tj?.model;
    if (!model || typeof model !== 'object') throw new Error('tokenizer: missing "model"');
    if (model.type !== 'BPE') throw new Error(`tokenizer: model.type must be "BPE", got ${JSON.stringify(model.type)}`);
    if (!model.vocab || typeof model.vocab !== 'object') throw new Error('tokenizer: missing model.vocab');
    if (!Array.isArray(model.merges)) throw new Error('tokenizer: model.merges must be an array');

    this.vocab = new Map(Object.entries(model.vocab));
    for (const ch of BYTE_TO_UNICODE) {
      if (!this.vocab.has(ch)) throw new Error('tokenizer: vocab lacks byte-level tokens; not a byte-level BPE tokenizer');
    }
    model.merges.forEach((m, rank) => {
      const pair = typeof m === 'string' ? m.split(' ') : m;
      if (!Array.isArray(pair) || pair.length !== 2) throw new Error(`tokenizer: bad merge #${rank}: ${JSON.stringify(m)}`);
      const [a, b] = pair;
      let inner = this.ranks.get(a);
      if (!inner) this.ranks.set(a, (inner = new Map()));
      if (!inner.has(b)) inner.set(b, rank);
    });

    for (const t of tj.added_tokens ?? []) {
      this.added.set(t.id, { id: t.id, content: t.content, special: t.special === true });
      this.addedByContent.set(t.content, t.id);
    }

    let maxId = -1;
    for (const id of this.vocab.values()) maxId = Math.max(maxId, id);
    for (const id of this.added.keys()) maxId = Math.max(maxId, id);
    this.vocabSize = maxId + 1;
    this.idToTokenStr = new Array(this.vocabSize);
    for (const [tok, id] of this.vocab) this.idToTokenStr[id] = tok;
    for (const t of this.added.values()) this.idToTokenStr[t.id] = t.content;

    const all = [...this.added.values()];
    this.specialRegex = alternation(all.map((t) => t.content));
    this.plainAddedRegex = alternation(all.filter((t) => !t.special).map((t) => t.content));
    this.preTokenizer = preTokenizerFromConfig(tj.pre_tokenizer);
    this.normalize = normalizerFromConfig(tj.normalizer);
    this.ignoreMerges = model.ignore_merges === true;
    this.unkId = model.unk_token ? this.vocab.get(model.unk_token) : undefined;
  }

  encode(text: string, opts: EncodeOptions = {}): number[] {
    const regex = opts.parseSpecialTokens === false ? this.plainAddedRegex : this.specialRegex;
    const ids: number[] = [];
    let last = 0;
    if (regex) {
      for (const m of text.matchAll(regex)) {
        const start = m.index ?? 0;
        if (start > last) this.encodeOrdinary(text.slice(last, start), ids);
        ids.push(this.tokenToId(m[0]) as number);
        last = start + m[0].length;
      }
    }
    if (last < text.length) this.encodeOrdinary(text.slice(last), ids);
    return ids;
  }

  decode(ids: readonly number[], opts: DecodeOptions = {}): string {
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (const id of ids) {
      if (opts.skipSpecialTokens && this.isSpecial(id)) continue;
      const b = this.tokenBytes(id);
      chunks.push(b);
      total += b.length;
    }
    const all = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      all.set(c, off);
      off += c.length;
    }
    return new TextDecoder('utf-8').decode(all);
  }

  tokenToId(token: string): number | undefined {
    return this.addedByContent.get(token) ?? this.vocab.get(token);
  }

  /** The raw token string (byte-level form for vocab tokens, content for added tokens). */
  idToToken(id: number): string | undefined {
    return this.idToTokenStr[id];
  }

  isSpecial(id: number): boolean {
    return this.added.get(id)?.special === true;
  }

  /** The UTF-8 bytes a token stands for (may be a partial code point). */
  tokenBytes(id: number): Uint8Array {
    const cached = this.bytesCache[id];
    if (cached) return cached;
    const added = this.added.get(id);
    const str = this.idToTokenStr[id];
    if (str === undefined) throw new RangeError(`tokenizer: unknown token id ${id}`);
    // Vocab tokens are byte-level strings; added tokens (and odd vocab entries) are plain text.
    const bytes = (added ? undefined : byteLevelToBytes(str)) ?? utf8Encoder.encode(str);
    this.bytesCache[id] = bytes;
    return bytes;
  }

  private encodeOrdinary(text: string, out: number[]): void {
    for (const piece of this.preTokenizer.split(this.normalize(text))) {
      const word = textToByteLevel(piece);
      let ids = this.bpeCache.get(word);
      if (!ids) {
        ids = this.bpe(word);
        if (this.bpeCache.size >= BPE_CACHE_LIMIT) this.bpeCache.clear();
        this.bpeCache.set(word, ids);
      }
      for (const id of ids) out.push(id);
    }
  }

  /** Classic GPT-2 loop: repeatedly merge every occurrence of the lowest-ranked adjacent pair. */
  private bpe(word: string): number[] {
    if (this.ignoreMerges) {
      const whole = this.vocab.get(word);
      if (whole !== undefined) return [whole];
    }
    let symbols = Array.from(word);
    while (symbols.length > 1) {
      let best = Infinity;
      let bestIdx = -1;
      for (let i = 0; i < symbols.length - 1; i++) {
        const r = this.ranks.get(symbols[i])?.get(symbols[i + 1]);
        if (r !== undefined && r < best) {
          best = r;
          bestIdx = i;
        }
      }
      if (bestIdx < 0) break;
      const a = symbols[bestIdx];
      const b = symbols[bestIdx + 1];
      const next: string[] = [];
      for (let i = 0; i < symbols.length; ) {
        if (i < symbols.length - 1 && symbols[i] === a && symbols[i + 1] === b) {
          next.push(a + b);
          i += 2;
        } else {
          next.push(symbols[i]);
          i++;
        }
      }
      symbols = next;
    }
    const ids: number[] = [];
    for (const s of symbols) {
      const id = this.vocab.get(s);
      if (id !== undefined) ids.push(id);
      // A merge result missing from the vocab: fall back to its bytes (always in vocab).
      else for (const ch of s) ids.push(this.vocab.get(ch) ?? (this.unkId as number));
    }
    return ids;
  }
}

/** Longest-first alternation so `<|end|>` never shadows `<|endoftext|>`. */
function alternation(contents: string[]): RegExp | undefined {
  const sorted = contents.filter((c) => c.length > 0).sort((a, b) => b.length - a.length);
  if (sorted.length === 0) return undefined;
  return new RegExp(sorted.map((c) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
}

function normalizerFromConfig(config: TokenizerJson['normalizer']): (s: string) => string {
  if (!config) return (s) => s;
  switch (config.type) {
    case 'NFC':
    case 'NFD':
    case 'NFKC':
    case 'NFKD': {
      const form = config.type;
      return (s) => s.normalize(form);
    }
    default:
      throw new Error(`tokenizer: unsupported normalizer ${JSON.stringify(config.type)}`);
  }
}
