import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyEmbedder } from '../../../../scripts/models';
import { EmbeddingWorkerClient } from './embedding-worker.client';

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

describe('EmbeddingWorkerClient (tiny embedder, worker thread, real onnxruntime)', () => {
  const root = mkdtempSync(join(tmpdir(), 'troupe-embedder-'));
  const modelDir = buildTinyEmbedder(root).dir;
  let client: EmbeddingWorkerClient;

  beforeAll(async () => {
    client = await EmbeddingWorkerClient.start(modelDir);
  });
  afterAll(async () => {
    await client?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('maps texts to unit vectors where shared words mean closer vectors', async () => {
    const [a, b, c] = await client.embed(['the king rode to the castle', 'the king rode home to his castle', 'seven purple numbers dance quickly']);
    expect(a).toHaveLength(64);
    for (const v of [a, b, c]) expect(Math.abs(dot(v, v) - 1)).toBeLessThan(1e-4);
    expect(dot(a, b)).toBeGreaterThan(dot(a, c) + 0.1);
  });

  it('batches concurrent requests dynamically and gives each the vector it gets alone', async () => {
    const texts = Array.from({ length: 40 }, (_, i) => `memory number ${i} about ${i % 3 === 0 ? 'swords' : 'songs'}`);
    const alone = await client.embed([texts[7]]);
    const sizes: number[] = [];
    const off = client.onStats((_, batchSizes) => sizes.push(...batchSizes));
    const together = await Promise.all(texts.map((t) => client.embed([t])));
    off();
    expect(Math.max(...sizes)).toBeGreaterThan(1);
    expect(sizes.reduce((s, n) => s + n, 0)).toBe(40);
    const diff = together[7][0].reduce((m, x, i) => Math.max(m, Math.abs(x - alone[0][i])), 0);
    expect(diff).toBeLessThan(1e-5);
  });

  it('reports a failed deadline for queued texts', async () => {
    await expect(client.embed(['late'], Date.now() - 1)).rejects.toMatchObject({ reason: 'deadline' });
  });
});
