import { fitWindow } from './context-assembler';

const role = {
  id: 'guide',
  version: 1,
  name: 'Guide',
  description: '',
  persona: 'You are a guide.',
  model: 'tiny-decoder',
  generation: undefined,
  tools: [],
  contextTokenBudget: 512,
  goals: [],
  style: '',
  variables: {},
  cacheClass: 'persona',
  memory: undefined,
};

const entry = (speakerKind: string, speaker: string, text: string) => ({
  id: '1-0',
  speakerKind,
  speaker,
  text,
  tokenCount: 0,
  turnId: 't',
  createdAt: '0',
  toolCallsJson: '',
});

// One token per character of content: easy to reason about in a test.
const count = (m: { content: string }) => m.content.length;
const persona = { message: { role: 'system', name: 'Guide', content: 'You are a guide.' }, tokens: 16 };

describe('fitWindow', () => {
  it('starts with the persona and attributes every speaker', () => {
    const window = fitWindow(role, {
      persona,
      extras: [],
      history: [entry('person', 'ada', 'hello'), entry('role', 'guide', 'hi ada'), entry('role', 'critic', 'too short')],
      budget: 512,
      trailer: 0,
      count,
    });
    expect(window.messages).toEqual([
      { role: 'system', name: 'Guide', content: 'You are a guide.' },
      { role: 'user', name: 'ada', content: 'hello' },
      { role: 'assistant', name: 'Guide', content: 'hi ada' },
      { role: 'user', name: 'critic', content: 'too short' },
    ]);
    expect(window).toMatchObject({ tokens: 16 + 5 + 6 + 9, historyEntries: 3 });
  });

  it('keeps the newest turns that fit and never exceeds the budget', () => {
    const history = Array.from({ length: 10 }, (_, i) => entry('person', 'ada', `turn-${i}`)); // 6 tokens each
    const summary = { message: { role: 'system', name: 'summary', content: 'x'.repeat(10) }, tokens: 10 };
    const window = fitWindow(role, { persona, extras: [summary], history, budget: 16 + 2 + 10 + 6 * 3 + 5, trailer: 2, count });
    expect(window.messages.slice(1).map((m) => m.content)).toEqual(['xxxxxxxxxx', 'turn-7', 'turn-8', 'turn-9']);
    expect(window.tokens).toBeLessThanOrEqual(16 + 2 + 10 + 6 * 3 + 5);
    expect(window.included).toEqual([true]);
  });

  it('drops an extra that does not fit but still fills turns', () => {
    const big = { message: { role: 'system', name: 'memory', content: 'm'.repeat(100) }, tokens: 100 };
    const window = fitWindow(role, { persona, extras: [big], history: [entry('person', 'ada', 'hi')], budget: 30, trailer: 0, count });
    expect(window.included).toEqual([false]);
    expect(window.messages.map((m) => m.content)).toEqual(['You are a guide.', 'hi']);
  });
});
