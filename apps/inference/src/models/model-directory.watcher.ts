export type ModelFolderChange = { folder: string; kind: 'added' | 'changed' | 'removed' };

/**
 * Turns successive scans of the model directory into changes. A folder's new state counts only
 * once two scans in a row agree (a debounce: a model being copied in is not loaded half-written).
 * Polling rather than fs.watch: it behaves the same on every filesystem, mounts included.
 */
export class ModelDirectoryWatcher {
  private known = new Map<string, string>();
  private previousScan = new Map<string, string>();

  /** `initial`: the folders already loaded, with the fingerprints they were loaded from. */
  constructor(initial: Map<string, string>) {
    this.known = new Map(initial);
    this.previousScan = new Map(initial);
  }

  /** Feeds one scan; returns the changes now stable. */
  observe(scan: Map<string, string>): ModelFolderChange[] {
    const changes: ModelFolderChange[] = [];
    const stable = (folder: string) => this.previousScan.get(folder) === scan.get(folder);
    for (const [folder, fp] of scan) {
      if (this.known.get(folder) === fp || !stable(folder)) continue;
      changes.push({ folder, kind: this.known.has(folder) ? 'changed' : 'added' });
      this.known.set(folder, fp);
    }
    for (const folder of [...this.known.keys()]) {
      if (scan.has(folder) || this.previousScan.has(folder)) continue;
      changes.push({ folder, kind: 'removed' });
      this.known.delete(folder);
    }
    this.previousScan = scan;
    return changes;
  }

  /** Records that `folder` was (re)loaded explicitly from `fingerprint`, so no change fires for it. */
  acknowledge(folder: string, fingerprint: string | undefined): void {
    if (fingerprint === undefined) this.known.delete(folder);
    else this.known.set(folder, fingerprint);
  }
}
