import { roleContext } from '@troupe/contracts';

const SENTENCE_END = /([.!?])\s/;
const LINE_MAX = 240;

/** The first sentence of a turn (or its first LINE_MAX characters), on one line. */
export function leadSentence(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  const end = flat.search(SENTENCE_END);
  const lead = end >= 0 ? flat.slice(0, end + 1) : flat;
  return lead.length > LINE_MAX ? `${lead.slice(0, LINE_MAX - 1)}…` : lead;
}

/**
 * Folds turns that left every window into the rolling summary. Extractive, not generative:
 * each folded turn contributes "speaker: its first sentence", and when the summary grows past
 * maxChars its oldest lines drop out first, so the summary stays bounded and recent.
 */
export function foldIntoSummary(summary: string, turns: readonly roleContext.HistoryEntry[], maxChars: number): string {
  const lines = summary ? summary.split('\n') : [];
  for (const turn of turns) {
    const lead = leadSentence(turn.text);
    if (lead) lines.push(`${turn.speaker}: ${lead}`);
  }
  let total = lines.reduce((n, l) => n + l.length + 1, -1);
  while (lines.length > 0 && total > maxChars) total -= lines.shift()!.length + 1;
  return lines.join('\n');
}
