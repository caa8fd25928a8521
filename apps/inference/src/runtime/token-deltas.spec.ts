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
  it('sends a first token at once and merges later tokens until the oldest has waited the interval', () => {
    const buf = new TokenDeltaBuffer(10);
    buf.push(1, token(0, 7, 'He'), 0);
    expect(buf.hasDue(0)).toBe(true);
    expect(deltas(buf.take().deltas)).toEqual([[1, token(0, 7, 'He')]]);

    buf.push(1, token(1, 8, 'll'), 1);
    buf.push(1, token(2, 9, 'o'), 4);
    expect(buf.hasDue(5)).toBe(false);
    expect(buf.nextDueAt).toBe(11);
    expect(buf.hasDue(11)).toBe(true);
    expect(deltas(buf.take().deltas)).toEqual([[1, { type: 'token', tokenIds: [8, 9], text: 'llo', index: 1 }]]);
    expect(buf.isEmpty).toBe(true);
    expect(buf.nextDueAt).toBeUndefined();
  });

  it('sends every request together, tokens before dones, each request in order', () => {
    const buf = new TokenDeltaBuffer(10);
    buf.push(1, token(5, 1, 'a'), 0);
    buf.push(2, token(3, 2, 'é'), 6);
    buf.push(1, token(6, 3, 'b'), 7);
    buf.push(2, token(4, 4, ''), 8);
    buf.push(2, done(5), 8);
    // A done does not hurry the others: due when the oldest (t=0) has waited 10 ms.
    expect(buf.hasDue(9)).toBe(false);
    expect(buf.hasDue(10)).toBe(true);
    const { deltas: cols, dones } = buf.take();
    expect(deltas(cols)).toEqual([
      [1, { type: 'token', tokenIds: [1, 3], text: 'ab', index: 5 }],
      [2, { type: 'token', tokenIds: [2, 4], text: 'é', index: 3 }],
    ]);
    expect(dones).toEqual([{ key: 2, event: done(5) }]);
    expect(buf.isEmpty).toBe(true);
  });

  it('a first token takes the others along; interval 0 sends every token as it comes', () => {
    const buf = new TokenDeltaBuffer(1000);
    buf.push(1, token(4, 1, 'x'), 0);
    expect(buf.hasDue(5)).toBe(false);
    buf.push(2, token(0, 2, 'y'), 5);
    expect(buf.hasDue(5)).toBe(true);
    expect(deltas(buf.take().deltas).map(([k]) => k)).toEqual([1, 2]);
    const every = new TokenDeltaBuffer(0);
    every.push(1, token(4, 1, 'x'), 0);
    expect(every.hasDue(0)).toBe(true);
  });

  it('takes an ended request at once with its last tokens, leaving the others to their interval', () => {
    const buf = new TokenDeltaBuffer(10);
    buf.push(1, token(5, 1, 'a'), 0);
    buf.push(2, token(3, 2, 'b'), 1);
    buf.push(2, done(4), 1);
    expect(buf.hasFinished).toBe(true);
    const { deltas: cols, dones } = buf.takeFinished();
    expect(deltas(cols)).toEqual([[2, token(3, 2, 'b')]]);
    expect(dones).toEqual([{ key: 2, event: done(4) }]);
    expect(buf.hasFinished).toBe(false);
    // Request 1's token still waits for the interval, then goes alone.
    expect(buf.hasDue(9)).toBe(false);
    expect(buf.hasDue(10)).toBe(true);
    const rest = buf.take();
    expect(deltas(rest.deltas)).toEqual([[1, token(5, 1, 'a')]]);
    expect(rest.dones).toEqual([]);
    expect(buf.isEmpty).toBe(true);
  });

  it('is empty after taking the last ended request', () => {
    const buf = new TokenDeltaBuffer(10);
    buf.push(1, token(2, 1, 'a'), 0);
    buf.push(1, done(3), 0);
    buf.takeFinished();
    expect(buf.isEmpty).toBe(true);
    expect(buf.nextDueAt).toBeUndefined();
  });
});
