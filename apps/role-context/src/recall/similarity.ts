const STOPWORDS = new Set(
  'the a an and or of to in on at for is are was were be been it its this that with as by from my your our their i you we they he she me what which who how do does did not'.split(' '),
);

/** Lowercase word stems worth matching on (letters/digits, 3+ chars or digits, no stopwords). */
export function keywords(text: string): Set<string> {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  return new Set(words.filter((w) => !STOPWORDS.has(w) && (w.length >= 3 || /^\d+$/.test(w))).map(stem));
}

/** A crude plural/verb-ending strip so "cats" meets "cat" and "lives" meets "live". */
function stem(word: string): string {
  if (word.length > 4 && word.endsWith('ing')) return word.slice(0, -3);
  if (word.length > 3 && word.endsWith('es')) return word.slice(0, -1);
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss')) return word.slice(0, -1);
  return word;
}

/** Overlap of keyword sets, normalised like a cosine of binary vectors (0 when nothing is shared). */
export function keywordScore(query: Set<string>, fact: Set<string>): number {
  if (query.size === 0 || fact.size === 0) return 0;
  let shared = 0;
  for (const w of query) if (fact.has(w)) shared++;
  return shared / Math.sqrt(query.size * fact.size);
}

export function cosine(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length === 0) return 0;
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i] * b[i];
    na += a[i] * a[i];
    nb += b[i] * b[i];
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}

/** The k best by score, best first; ties keep input order. */
export function topK<T extends { score: number }>(items: T[], k: number): T[] {
  return items
    .map((item, i) => ({ item, i }))
    .sort((x, y) => y.item.score - x.item.score || x.i - y.i)
    .slice(0, k)
    .map((x) => x.item);
}
