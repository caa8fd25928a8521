import { parseToolCall } from './tool-call-parser';

describe('parseToolCall', () => {
  it('finds a call inside other text', () => {
    expect(parseToolCall('Let me compute. <tool_call>{"name":"calculator","arguments":{"expression":"2+2"}}</tool_call> ok')).toEqual({
      kind: 'call',
      call: { name: 'calculator', arguments: { expression: '2+2' } },
    });
  });

  it('treats text without a call as a plain reply', () => {
    expect(parseToolCall('Just words {"name":"x"}')).toEqual({ kind: 'none' });
  });

  it.each([
    ['<tool_call>{nope</tool_call>', /not JSON/],
    ['<tool_call>[1]</tool_call>', /JSON object/],
    ['<tool_call>{"arguments":{}}</tool_call>', /"name"/],
    ['<tool_call>{"name":"x","arguments":[1]}</tool_call>', /"arguments"/],
  ])('reports %s as malformed', (text, problem) => {
    const parsed = parseToolCall(text);
    expect(parsed.kind).toBe('malformed');
    expect(parsed.kind === 'malformed' && parsed.problem).toMatch(problem);
  });
});
