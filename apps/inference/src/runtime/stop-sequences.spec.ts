import { StopSequenceMatcher } from './stop-sequences';

describe('StopSequenceMatcher', () => {
  it('passes text through when there are no stop strings', () => {
    const m = new StopSequenceMatcher([]);
    expect(m.push('User:')).toEqual({ text: 'User:', stopped: false });
  });

  it('stops on a stop string split across deltas and never emits part of it', () => {
    const m = new StopSequenceMatcher(['\nUser:']);
    const out: string[] = [];
    for (const d of ['Hello', ' there\n', 'Us', 'er: more']) {
      const r = m.push(d);
      out.push(r.text);
      if (r.stopped) break;
    }
    expect(out.join('')).toBe('Hello there');
    expect(out).toEqual(['Hello', ' there', '', '']);
    expect(m.hasStopped).toBe(true);
  });

  it('releases held text when the prefix turns out not to be a stop string', () => {
    const m = new StopSequenceMatcher(['END']);
    expect(m.push('the E')).toEqual({ text: 'the ', stopped: false });
    expect(m.push('nd')).toEqual({ text: 'End', stopped: false });
    expect(m.push(' EN')).toEqual({ text: ' ', stopped: false });
    expect(m.flush()).toBe('EN');
  });

  it('cuts at the earliest of several stop strings', () => {
    const m = new StopSequenceMatcher(['c', 'ab']);
    expect(m.push('xxabc')).toEqual({ text: 'xx', stopped: true });
    expect(m.push('more')).toEqual({ text: '', stopped: true });
    expect(m.flush()).toBe('');
  });
});
