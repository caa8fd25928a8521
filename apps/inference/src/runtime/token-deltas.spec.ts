import type { GenerationEvent } from './generation.types';
import { TokenDeltaBuffer, TokenDeltaColumns, forEachDelta } from './token-deltas';

const token = (index: number, id: number, text: string): GenerationEvent => ({ type: 'token', tokenIds: [id], text, index });
const done = (completionTokens: number): GenerationEvent => ({ type: 'done', finishReason: 'length', promptTokens: 3, completionTokens });
const deltas = (cols: TokenDeltaColumns) => {
  const out: [number, GenerationEvent][] = [];
  forEachDelta(cols, (key, e) => out.push([key, e]));
  return out;
};

describe('TokenDeltaBuffer', () => {
  it('sends a first token at once and merges later tokens of a request until they have waited the interval', () => {
    const buf = new TokenDeltaBuffer(10);
    buf.push(1, token(0, 7, 'He'), 0);
    expect(buf.hasDue(0)).toBe(true);
    expect(deltas(buf.take(0).deltas)).toEqual([[1, token(0, 7, 'He')]]);

    buf.push(1, token(1, 8, 'll'), 1);
    buf.push(1, token(2, 9, 'o'), 4);
    expect(buf.hasDue(5)).toBe(false);
    expect(buf.nextDueAt).toBe(11);
    expect(buf.hasDue(11)).toBe(true);
    expect(deltas(buf.take(11).deltas)).toEqual([[1, { type: 'token', tokenIds: [8, 9], text: 'llo', index: 1 }]]);
    expect(buf.isEmpty).toBe(true);
  });

  it('takes only the due deltas, keeps the others, and sends a done with its last tokens at once, in order', () => {
    const buf = new TokenDeltaBuffer(10);
    buf.push(1, token(5, 1, 'a'), 0);
    buf.push(2, token(3, 2, 'é'), 6);
    buf.push(1, token(6, 3, 'b'), 7);
    // Request 1 has waited 10 ms at 10; request 2 only 4.
    const first = deltas(buf.take(10).deltas);
    expect(first).toEqual([[1, { type: 'token', tokenIds: [1, 3], text: 'ab', index: 5 }]]);
    buf.push(2, token(4, 4, ''), 11);
    buf.push(2, done(5), 11);
    expect(buf.hasDue(11)).toBe(true);
    const { deltas: cols, dones } = buf.take(11);
    expect(deltas(cols)).toEqual([[2, { type: 'token', tokenIds: [2, 4], text: 'é', index: 3 }]]);
    expect(dones).toEqual([{ key: 2, event: done(5) }]);
    expect(buf.isEmpty).toBe(true);
  });

  it('with interval 0 sends every token as it comes, and take(now, true) empties everything', () => {
    const every = new TokenDeltaBuffer(0);
    every.push(1, token(4, 1, 'x'), 0);
    expect(every.hasDue(0)).toBe(true);
    const slow = new TokenDeltaBuffer(1000);
    slow.push(1, token(4, 1, 'x'), 0);
    slow.push(2, token(9, 2, 'y'), 0);
    expect(slow.hasDue(5)).toBe(false);
    expect(deltas(slow.take(5, true).deltas).map(([k]) => k)).toEqual([1, 2]);
    expect(slow.nextDueAt).toBeUndefined();
  });
});
