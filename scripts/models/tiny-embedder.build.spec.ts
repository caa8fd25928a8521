import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadEmbeddingManifest } from '../../apps/inference/src/runtime/embedding-manifest';
import { buildTinyEmbedder } from './index';

describe('tiny-embedder build', () => {
  const roots = [0, 1].map(() => mkdtempSync(join(tmpdir(), 'troupe-embedder-build-')));
  afterAll(() => roots.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('writes the same valid model on every run and skips a current build', () => {
    const [a, b] = roots.map((r) => buildTinyEmbedder(r));
    for (const f of ['model.onnx', 'tokenizer.json', 'manifest.json']) expect(readFileSync(join(a.dir, f)).equals(readFileSync(join(b.dir, f)))).toBe(true);
    expect(loadEmbeddingManifest(a.dir)).toMatchObject({ kind: 'embedding', dimensions: 64, batching: { maxBatchSize: 64, preferredBatchSizes: [64, 32, 16] } });
    expect(buildTinyEmbedder(roots[0]).skipped).toBe(true);
  });
});
