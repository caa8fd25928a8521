/**
 * Pre-tokenization: splits text into pieces that BPE never merges across. Supports what
 * byte-level BPE tokenizer.json files use: `ByteLevel` (GPT-2 regex) and `Sequence` of
 * `Split` (a model-specific regex, e.g. Llama 3 / Qwen) + `ByteLevel` with use_regex false.
 */

/** GPT-2's split pattern (contractions, letters, numbers, punctuation, whitespace runs). */
export const GPT2_SPLIT_PATTERN =
  "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

export interface PreTokenizer {
  split(text: string): string[];
}

/** Splits text into regex matches and the (non-empty) gaps between them ("Isolated"). */
export class RegexPreTokenizer implements PreTokenizer {
  private readonly regex: RegExp;

  constructor(
    pattern: string,
    private readonly addPrefixSpace = false,
  ) {
    this.regex = new RegExp(toJsPattern(pattern), 'gu');
  }

  split(text: string): string[] {
    if (this.addPrefixSpace && text.length > 0 && !text.startsWith(' ')) text = ' ' + text;
    const pieces: string[] = [];
    let last = 0;
    this.regex.lastIndex = 0;
    for (const m of text.matchAll(this.regex)) {
      const start = m.index ?? 0;
      if (m[0].length === 0) continue;
      if (start > last) pieces.push(text.slice(last, start));
      pieces.push(m[0]);
      last = start + m[0].length;
    }
    if (last < text.length) pieces.push(text.slice(last));
    return pieces;
  }
}

/**
 * Node 20's RegExp lacks inline modifier groups like `(?i:'s|'t)` which Llama 3 / Qwen split
 * patterns use; rewrite simple ones (no nested groups) into explicit case classes.
 */
function toJsPattern(pattern: string): string {
  return pattern.replace(/\(\?i:([^()]*)\)/g, (_m, body: string) => {
    let out = '';
    let inClass = false;
    for (let i = 0; i < body.length; i++) {
      const ch = body[i];
      if (ch === '\\') {
        out += ch + (body[i + 1] ?? '');
        i++;
        continue;
      }
      if (ch === '[') inClass = true;
      if (ch === ']') inClass = false;
      const lower = ch.toLowerCase();
      const upper = ch.toUpperCase();
      out += !inClass && lower !== upper ? `[${lower}${upper}]` : ch;
    }
    return `(?:${out})`;
  });
}

interface PreTokenizerConfig {
  type?: string;
  add_prefix_space?: boolean;
  use_regex?: boolean;
  pattern?: { Regex?: string; String?: string };
  behavior?: string;
  invert?: boolean;
  pretokenizers?: PreTokenizerConfig[];
}

/** Builds the pre-tokenizer described by tokenizer.json's `pre_tokenizer` field. */
export function preTokenizerFromConfig(config: unknown): PreTokenizer {
  if (config === null || config === undefined) return new RegexPreTokenizer(GPT2_SPLIT_PATTERN);
  const c = config as PreTokenizerConfig;
  if (c.type === 'ByteLevel') {
    if (c.use_regex === false) return { split: (t) => (c.add_prefix_space && !t.startsWith(' ') ? [' ' + t] : [t]) };
    return new RegexPreTokenizer(GPT2_SPLIT_PATTERN, c.add_prefix_space === true);
  }
  if (c.type === 'Sequence' && Array.isArray(c.pretokenizers)) {
    const steps = c.pretokenizers.map((p) => preTokenizerFromConfig(p));
    return { split: (t) => steps.reduce<string[]>((pieces, step) => pieces.flatMap((p) => step.split(p)), [t]) };
  }
  if (c.type === 'Split' && c.pattern?.Regex !== undefined && c.invert !== true && (c.behavior ?? 'Isolated') === 'Isolated') {
    return new RegexPreTokenizer(c.pattern.Regex);
  }
  throw new Error(`tokenizer: unsupported pre_tokenizer ${JSON.stringify(c.type ?? config)}`);
}
