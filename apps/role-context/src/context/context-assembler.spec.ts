import { assembleMessages } from './context-assembler';

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
};

const entry = (speakerKind: string, speaker: string, text: string) => ({
  id: '1-0',
  speakerKind,
  speaker,
  text,
  tokenCount: 0,
  turnId: 't',
  createdAt: '0',
});

describe('assembleMessages', () => {
  it('starts with the persona and attributes every speaker', () => {
    const messages = assembleMessages(role, [
      entry('person', 'ada', 'hello'),
      entry('role', 'guide', 'hi ada'),
      entry('role', 'critic', 'too short'),
    ]);
    expect(messages).toEqual([
      { role: 'system', name: 'Guide', content: 'You are a guide.' },
      { role: 'user', name: 'ada', content: 'hello' },
      { role: 'assistant', name: 'Guide', content: 'hi ada' },
      { role: 'user', name: 'critic', content: 'too short' },
    ]);
  });
});
