import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ByteLevelBpeTokenizer } from '@troupe/tokenizer';
import { onnx } from 'onnx-proto';
import { parseCausalLmManifest } from '../../apps/inference/src/runtime/causal-lm-manifest';
import { buildModels, CHAT_SPECIAL_TOKENS } from './index';

const FILES = ['model.onnx', 'tokenizer.json', 'manifest.json'];

describe('build-models', () => {
  const roots: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'troupe-models-'));
    roots.push(d);
    return d;
  };
  afterAll(() => roots.forEach((d) => rmSync(d, { recursive: true, force: true })));

  it('writes the same bytes on every run', () => {
    const [a] = buildModels(tmp());
    const [b] = buildModels(tmp());
    expect(a.skipped).toBe(false);
    for (const f of FILES) expect(readFileSync(join(a.dir, f)).equals(readFileSync(join(b.dir, f)))).toBe(true);
  });

  it('skips current builds, rebuilds stale ones, and always rebuilds with force', () => {
    const root = tmp();
    const [first] = buildModels(root);
    const model = join(first.dir, 'model.onnx');
    const mtime = statSync(model).mtimeMs;
    expect(buildModels(root)[0].skipped).toBe(true);
    expect(statSync(model).mtimeMs).toBe(mtime);
    expect(buildModels(root, { force: true })[0].skipped).toBe(false);

    writeFileSync(model, 'corrupt'); // hash mismatch => stale
    expect(buildModels(root)[0].skipped).toBe(false);
    expect(buildModels(root)[0].skipped).toBe(true);
  });

  it('produces a valid manifest, a ~512-token tokenizer and the standard ONNX layout', () => {
    const [{ dir }] = buildModels(tmp());
    const manifest = parseCausalLmManifest(JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')));
    const tok = ByteLevelBpeTokenizer.fromFile(join(dir, 'tokenizer.json'));
    expect(tok.vocabSize).toBe(512);
    expect(manifest.vocabSize).toBe(tok.vocabSize);
    for (const s of Object.values(CHAT_SPECIAL_TOKENS)) {
      expect(tok.encode(s)).toEqual([tok.tokenToId(s)]);
      expect(tok.isSpecial(tok.tokenToId(s) as number)).toBe(true);
    }
    // Learned merges compress English prose well below one token per byte.
    const text = 'The troupe played the king and the messenger in the square.';
    expect(tok.encode(text).length).toBeLessThan(text.length / 2);

    const model = onnx.ModelProto.decode(readFileSync(join(dir, 'model.onnx')));
    expect(Number(model.opsetImport[0].version)).toBe(17);
    expect(model.graph?.input?.map((i) => i.name)).toEqual(manifest.inputNames);
    expect(model.graph?.output?.map((o) => o.name)).toEqual(manifest.outputNames);
    const dims = (name: string) =>
      model.graph?.input?.find((i) => i.name === name)?.type?.tensorType?.shape?.dim?.map((d) => d.dimParam || Number(d.dimValue?.toString()));
    expect(dims('past_key_values.0.key')).toEqual(['batch_size', 4, 'past_sequence_length', 16]);
    expect(dims('input_ids')).toEqual(['batch_size', 'sequence_length']);
  });
});
