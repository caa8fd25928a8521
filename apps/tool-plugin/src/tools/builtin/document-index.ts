/** One searchable passage of a document. */
export interface Passage {
  document: string;
  /** 1-based position of the passage in its document. */
  passage: number;
  text: string;
}

export interface SearchHit extends Passage {
  score: number;
}

export function tokenize(text: string): string[] {
  return text
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((t) => t.length > 1);
}

/** Splits a document on blank lines into passages of roughly `target` characters. */
export function splitPassages(document: string, text: string, target = 800): Passage[] {
  const passages: Passage[] = [];
  let current = '';
  for (const paragraph of text.split(/\n\s*\n/).map((p) => p.trim()).filter(Boolean)) {
    if (current && current.length + paragraph.length > target) {
      passages.push({ document, passage: passages.length + 1, text: current });
      current = '';
    }
    current = current ? `${current}\n\n${paragraph}` : paragraph;
  }
  if (current) passages.push({ document, passage: passages.length + 1, text: current });
  return passages;
}

/** Okapi BM25 over passages (k1 = 1.2, b = 0.75). */
export class Bm25Index {
  private readonly docs: { passage: Passage; terms: Map<string, number>; length: number }[] = [];
  private readonly documentFrequency = new Map<string, number>();
  private averageLength = 0;

  constructor(
    passages: Passage[],
    private readonly k1 = 1.2,
    private readonly b = 0.75,
  ) {
    for (const passage of passages) {
      const terms = new Map<string, number>();
      const tokens = tokenize(passage.text);
      for (const t of tokens) terms.set(t, (terms.get(t) ?? 0) + 1);
      for (const t of terms.keys()) this.documentFrequency.set(t, (this.documentFrequency.get(t) ?? 0) + 1);
      this.docs.push({ passage, terms, length: tokens.length });
    }
    this.averageLength = this.docs.reduce((s, d) => s + d.length, 0) / Math.max(1, this.docs.length);
  }

  get size(): number {
    return this.docs.length;
  }

  search(query: string, limit: number): SearchHit[] {
    const terms = [...new Set(tokenize(query))];
    const n = this.docs.length;
    return this.docs
      .map((d) => {
        let score = 0;
        for (const t of terms) {
          const tf = d.terms.get(t);
          if (!tf) continue;
          const df = this.documentFrequency.get(t)!;
          const idf = Math.log(1 + (n - df + 0.5) / (df + 0.5));
          score += (idf * tf * (this.k1 + 1)) / (tf + this.k1 * (1 - this.b + (this.b * d.length) / this.averageLength));
        }
        return { ...d.passage, score: Math.round(score * 1000) / 1000 };
      })
      .filter((h) => h.score > 0)
      .sort((a, b) => b.score - a.score)
      .slice(0, limit);
  }
}
