/**
 * @jest-environment ./apps/inference/src/runtime/testing/onnxruntime.jest-env.ts
 */
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildTinyDecoder } from '../../../../scripts/models';
import { CausalLmSession } from './causal-lm.session';
import { argmax } from './sampling';

describe('CausalLmSession (tiny decoder, real onnxruntime)', () => {
  const root = mkdtempSync(join(tmpdir(), 'troupe-session-'));
  const modelDir = buildTinyDecoder(root).dir;
  let session: CausalLmSession;

  beforeAll(async () => {
    session = await CausalLmSession.load(modelDir);
  });
  afterAll(async () => {
    await session?.release();
    rmSync(root, { recursive: true, force: true });
  });

  const maxAbsDiff = (a: Float32Array, b: Float32Array) => a.reduce((m, x, i) => Math.max(m, Math.abs(x - b[i])), 0);

  it('gives the same logits with the KV cache as recomputing the whole sequence', async () => {
    const prompt = [10, 300, 42, 7, 511, 99];
    const cached = session.createSequence();
    let logits = await cached.prefill(prompt);
    expect(logits).toHaveLength(512);
    const tokens = [...prompt];
    for (let step = 0; step < 5; step++) {
      const next = argmax(logits);
      tokens.push(next);
      logits = await cached.decodeStep(next);
      const fresh = session.createSequence();
      const full = await fresh.prefill(tokens);
      fresh.dispose();
      expect(maxAbsDiff(logits, full)).toBeLessThan(1e-4);
    }
    expect(cached.length).toBe(tokens.length);
    // Chunked prefill (prompt in two runs) matches too.
    const chunked = session.createSequence();
    await chunked.prefill(tokens.slice(0, 4));
    expect(maxAbsDiff(await chunked.prefill(tokens.slice(4)), logits)).toBeLessThan(1e-4);
    cached.dispose();
    chunked.dispose();
  });

  it('keeps sequences independent and depends on earlier tokens', async () => {
    const a = session.createSequence();
    const b = session.createSequence();
    const la = await a.prefill([1, 2, 3]);
    const lb = await b.prefill([4, 2, 3]);
    expect(maxAbsDiff(la, lb)).toBeGreaterThan(1e-3);
    expect(maxAbsDiff(await a.decodeStep(5), (await session.createSequence().prefill([1, 2, 3, 5])))).toBeLessThan(1e-4);
  });

  it('decodes caches of different lengths in one padded batch with the logits of running each alone', async () => {
    const prompts = [[3], [10, 20, 30, 40, 50], [7, 8, 9]];
    const batched = await Promise.all(prompts.map(async (p) => { const s = session.createSequence(); await s.prefill(p); return s; }));
    const solo = await Promise.all(prompts.map(async (p) => { const s = session.createSequence(); await s.prefill(p); return s; }));
    for (let step = 0; step < 3; step++) {
      // Step 2 drops the middle sequence: the batch is re-merged without it.
      const members = step === 2 ? [0, 2] : [0, 1, 2];
      const tokens = members.map((i) => 100 + i + step);
      const logits = await session.decodeBatch(members.map((i) => batched[i].cache), tokens);
      for (const [j, i] of members.entries()) {
        expect(maxAbsDiff(logits[j], await solo[i].decodeStep(tokens[j]))).toBeLessThan(1e-4);
        expect(batched[i].length).toBe(solo[i].length);
      }
      // Unchanged batch: the next step reuses the output tensors as they are.
      expect(batched[0].cache.past).toBe(batched[members[members.length - 1]].cache.past);
    }
    expect(session.kvBytesPerToken).toBe(2 * 2 * 4 * 16 * 4);
  });

  it('keeps decoding in the same tensors, without a copy, when one row of four leaves', async () => {
    const prompts = [[3], [10, 20, 30, 40, 50], [7, 8, 9], [11, 12]];
    const caches = prompts.map(() => session.createSequence().cache);
    await session.prefillBatch(caches, prompts);
    const solo = await Promise.all(prompts.map(async (p) => { const s = session.createSequence(); await s.prefill(p); return s; }));
    await session.decodeBatch(caches, [1, 2, 3, 4]);
    for (let i = 0; i < 4; i++) await solo[i].decodeStep(i + 1);
    // Row 1 leaves; the other three keep their rows of the 4-row tensors (row 1 decodes along, unread).
    const members = [0, 2, 3];
    for (let step = 0; step < 2; step++) {
      const tokens = members.map((i) => 50 + i + step);
      const logits = await session.decodeBatch(members.map((i) => caches[i]), tokens);
      expect(caches[0].past['past_key_values.0.key'].dims[0]).toBe(4);
      expect(members.map((i) => caches[i].row)).toEqual(members);
      for (const [j, i] of members.entries()) expect(maxAbsDiff(logits[j], await solo[i].decodeStep(tokens[j]))).toBeLessThan(1e-4);
    }
  });

  it('prefills prompts of different lengths in one padded run, then decodes them together', async () => {
    const prompts = [[3, 4], [10, 20, 30, 40, 50], [7]];
    const solo = await Promise.all(prompts.map(async (p) => ({ s: session.createSequence(), p })));
    const soloLogits: Float32Array[] = [];
    for (const { s, p } of solo) soloLogits.push(await s.prefill(p));
    const caches = prompts.map(() => session.createSequence().cache);
    const logits = await session.prefillBatch(caches, prompts);
    logits.forEach((l, i) => expect(maxAbsDiff(l, soloLogits[i])).toBeLessThan(1e-4));
    const next = await session.decodeBatch(caches, [1, 2, 3]);
    for (let i = 0; i < 3; i++) expect(maxAbsDiff(next[i], await solo[i].s.decodeStep(i + 1))).toBeLessThan(1e-4);
    expect(caches.map((c) => c.length)).toEqual([3, 6, 2]);
  });

  it('refuses to run past the context length', async () => {
    const s = session.createSequence();
    await expect(s.prefill(new Array(257).fill(1))).rejects.toThrow(/context length exceeded/);
  });

  it('gives clear errors for bad model directories', async () => {
    await expect(CausalLmSession.load(join(root, 'nope'))).rejects.toThrow(/has no manifest\.json/);
    const broken = join(root, 'broken');
    cpSync(modelDir, broken, { recursive: true });
    writeFileSync(join(broken, 'model.onnx'), 'not an onnx file');
    await expect(CausalLmSession.load(broken)).rejects.toThrow(/onnxruntime cannot load .*model\.onnx/);
  });
});
