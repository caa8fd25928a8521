import { TickGrid } from './tick-grid';

describe('TickGrid', () => {
  beforeEach(() => jest.useFakeTimers({ now: 1_000_000 }));
  afterEach(() => jest.useRealTimers());

  it('runs callbacks due within one step together, at the first tick at or after their moment', () => {
    const grid = new TickGrid(50);
    const ran: [string, number][] = [];
    jest.advanceTimersByTime(10);
    grid.after(30, (at) => ran.push(['a', at])); // due at +40: tick +50
    jest.advanceTimersByTime(5);
    grid.after(35, (at) => ran.push(['b', at])); // due at +50: tick +50
    grid.after(36, (at) => ran.push(['c', at])); // due at +51: tick +100
    expect(grid.pending).toBe(2);
    jest.advanceTimersByTime(34);
    expect(ran).toEqual([]);
    jest.advanceTimersByTime(1);
    expect(ran).toEqual([['a', 1_000_050], ['b', 1_000_050]]);
    jest.advanceTimersByTime(50);
    expect(ran.map(([name]) => name)).toEqual(['a', 'b', 'c']);
    expect(grid.pending).toBe(0);
  });

  it('takes a cancelled callback back, and its tick with the last one', () => {
    const grid = new TickGrid(() => 20);
    const ran: string[] = [];
    const a = grid.after(5, () => ran.push('a'));
    const b = grid.after(5, () => ran.push('b'));
    a.cancel();
    expect(grid.pending).toBe(1);
    b.cancel();
    expect(grid.pending).toBe(0);
    jest.advanceTimersByTime(100);
    expect(ran).toEqual([]);
  });

  it('reads the step at each use and never fires early with a step under 1 ms', () => {
    let step = 0;
    const grid = new TickGrid(() => step);
    const ran: number[] = [];
    grid.after(3, () => ran.push(Date.now() - 1_000_000));
    step = 40;
    grid.after(3, () => ran.push(Date.now() - 1_000_000));
    jest.advanceTimersByTime(100);
    expect(ran).toEqual([3, 40]);
  });
});
