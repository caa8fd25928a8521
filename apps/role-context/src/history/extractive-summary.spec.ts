import { foldIntoSummary, leadSentence } from './extractive-summary';

const turn = (speaker: string, text: string) => ({ id: '1-0', speakerKind: 'person', speaker, text, tokenCount: 0, turnId: '', createdAt: '', toolCallsJson: '' });

describe('extractive summary', () => {
  it('keeps the first sentence of each folded turn, attributed', () => {
    expect(leadSentence('The harbour is cold.  Ships wait.\nMore.')).toBe('The harbour is cold.');
    const summary = foldIntoSummary('', [turn('ada', 'I live in Lisbon. It is sunny.'), turn('guide', 'Noted! Anything else?')], 500);
    expect(summary).toBe('ada: I live in Lisbon.\nguide: Noted!');
  });

  it('stays within its bound by dropping the oldest lines', () => {
    let summary = '';
    for (let i = 0; i < 50; i++) summary = foldIntoSummary(summary, [turn('ada', `Fact number ${i} is here.`)], 120);
    expect(summary.length).toBeLessThanOrEqual(120);
    expect(summary.endsWith('ada: Fact number 49 is here.')).toBe(true);
    expect(summary).not.toContain('number 1 ');
  });
});
