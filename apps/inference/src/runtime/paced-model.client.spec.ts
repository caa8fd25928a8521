import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModels } from '../../../../scripts/models';
import { encodeChatPrompt } from './chat-template';
import { GenerationEvent } from './generation.types';
import { PacedModelClient, parsePacedManifest } from './paced-model.client';

describe('PacedModelClient', () => {
  const root = mkdtempSync(join(tmpdir(), 'troupe-paced-'));
  let model: PacedModelClient;

  beforeAll(async () => {
    buildModels(root);
    model = await PacedModelClient.start(join(root, 'paced'));
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  function run(text: string, maxNewTokens: number, cancelAfter?: number, on = model): Promise<GenerationEvent[]> {
    const events: GenerationEvent[] = [];
    return new Promise((resolve) => {
      const cancel = on.submit(
        {
          requestId: 'r',
          promptTokenIds: encodeChatPrompt(model.tokenizer, [{ role: 'user', content: text }]),
          maxNewTokens,
          temperature: 0,
          topK: 0,
          topP: 1,
          stopTokenIds: [],
        },
        {
          push: (e) => {
            events.push(e);
            if (e.type === 'done') resolve(events);
            if (e.type === 'token' && e.index + 1 === cancelAfter) {
              cancel();
              resolve(events);
            }
          },
          fail: () => resolve(events),
        },
      );
    });
  }

  it('repeats its text up to max_new_tokens and says "length"', async () => {
    const events = await run('hello', 40);
    const tokens = events.filter((e) => e.type === 'token');
    expect(tokens).toHaveLength(40);
    expect(events[events.length - 1]).toMatchObject({ type: 'done', finishReason: 'length', completionTokens: 40 });
    expect(tokens.map((t) => (t.type === 'token' ? t.text : '')).join('')).toMatch(/^The harbour lights came on/);
  });

  it('streams like a served model: the first token at once, later ones in one delta per stream interval', async () => {
    const coalescing = await PacedModelClient.start(join(root, 'paced'), 60_000);
    const one = await run('hello', 40);
    const events = await run('hello', 40, undefined, coalescing);
    const tokens = events.flatMap((e) => (e.type === 'token' ? [e] : []));
    expect(tokens.map((t) => [t.index, t.tokenIds.length])).toEqual([
      [0, 1],
      [1, 39],
    ]);
    expect(tokens.map((t) => t.text).join('')).toBe(one.map((e) => (e.type === 'token' ? e.text : '')).join(''));
    expect(events[events.length - 1]).toMatchObject({ type: 'done', finishReason: 'length', completionTokens: 40 });
  });

  it('sends the later tokens of every stream on one grid of the interval, as a batched engine does at its steps', async () => {
    const gridded = await PacedModelClient.start(join(root, 'paced'), 40);
    jest.useFakeTimers({ now: 1_200_000 }); // a multiple of 40
    try {
      const pushes: [string, number, number][] = [];
      const submit = (requestId: string) =>
        gridded.submit(
          { requestId, promptTokenIds: encodeChatPrompt(model.tokenizer, [{ role: 'user', content: 'hello' }]), maxNewTokens: 1000, temperature: 0, topK: 0, topP: 1, stopTokenIds: [] },
          { push: (e) => e.type === 'token' && pushes.push([requestId, e.index, Date.now() - 1_200_000]), fail: () => undefined },
        );
      const cancels = [submit('a')];
      await jest.advanceTimersByTimeAsync(15);
      cancels.push(submit('b'));
      await jest.advanceTimersByTimeAsync(200);
      cancels.forEach((cancel) => cancel());
      // First tokens at once (5 and 20 ms: one pace in), every later delta on a 40 ms tick, both streams' in the same ticks.
      expect(pushes.filter(([, index]) => index === 0).map(([id, , at]) => [id, at])).toEqual([['a', 5], ['b', 20]]);
      const later = pushes.filter(([, index]) => index > 0);
      expect(later.map(([, , at]) => at % 40)).toEqual(later.map(() => 0));
      expect(later.filter(([id]) => id === 'a').map(([, , at]) => at)).toEqual(later.filter(([id]) => id === 'b').map(([, , at]) => at));
    } finally {
      jest.useRealTimers();
    }
  });

  it('answers a matching rule with its scripted reply and stops', async () => {
    const events = await run('Please calculate this for me', 500);
    const text = events.map((e) => (e.type === 'token' ? e.text : '')).join('');
    expect(text).toBe('Let me work it out. <tool_call>{"name": "calculator", "arguments": {"expression": "6 * 7"}}</tool_call>');
    expect(events[events.length - 1]).toMatchObject({ type: 'done', finishReason: 'stop' });
  });

  it('stops streaming when cancelled, and frees its slot', async () => {
    const events = await run('hello', 1000, 3);
    expect(events.filter((e) => e.type === 'token')).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 30));
    expect(model.openStreams).toBe(0);
  });

  it('rejects a bad manifest naming the field', () => {
    expect(() => parsePacedManifest({ name: 'p', kind: 'paced', files: { tokenizer: 't.json' }, paceMs: -1, text: 'x' })).toThrow(/"paceMs"/);
    expect(() => parsePacedManifest({ name: 'p', kind: 'paced', files: { tokenizer: '../t.json' }, paceMs: 1, text: 'x' })).toThrow(/"files.tokenizer"/);
  });
});
