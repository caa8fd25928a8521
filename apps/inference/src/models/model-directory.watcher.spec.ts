import { ModelDirectoryWatcher } from './model-directory.watcher';

const scan = (entries: Record<string, string>) => new Map(Object.entries(entries));

describe('ModelDirectoryWatcher', () => {
  it('reports an added folder once two scans agree on it', () => {
    const w = new ModelDirectoryWatcher(scan({ a: '1' }));
    expect(w.observe(scan({ a: '1', b: 'x' }))).toEqual([]);
    expect(w.observe(scan({ a: '1', b: 'y' }))).toEqual([]); // still being written
    expect(w.observe(scan({ a: '1', b: 'y' }))).toEqual([{ folder: 'b', kind: 'added' }]);
    expect(w.observe(scan({ a: '1', b: 'y' }))).toEqual([]);
  });

  it('reports a changed and a removed folder after the debounce', () => {
    const w = new ModelDirectoryWatcher(scan({ a: '1', b: '2' }));
    expect(w.observe(scan({ a: '9' }))).toEqual([]);
    expect(w.observe(scan({ a: '9' }))).toEqual([
      { folder: 'a', kind: 'changed' },
      { folder: 'b', kind: 'removed' },
    ]);
  });

  it('stays quiet about a folder reloaded explicitly', () => {
    const w = new ModelDirectoryWatcher(scan({ a: '1' }));
    w.acknowledge('a', '2');
    expect(w.observe(scan({ a: '2' }))).toEqual([]);
    expect(w.observe(scan({ a: '2' }))).toEqual([]);
    w.acknowledge('a', undefined);
    expect(w.observe(scan({ a: '2' }))).toEqual([{ folder: 'a', kind: 'added' }]);
  });
});
