import { CausalLmManifestError, parseCausalLmManifest, standardCausalLmIoNames } from './causal-lm-manifest';

const valid = () => ({
  name: 'm',
  version: '1',
  kind: 'causal-lm',
  files: { model: 'model.onnx', tokenizer: 'tokenizer.json' },
  contextLength: 256,
  vocabSize: 512,
  numLayers: 2,
  numHeads: 4,
  headDim: 16,
  eosToken: '<|end|>',
  specialTokens: { end: '<|end|>' },
  ...standardCausalLmIoNames(2),
});

describe('parseCausalLmManifest', () => {
  it('accepts a valid manifest and fills defaults', () => {
    const m = parseCausalLmManifest(valid());
    expect(m.numKvHeads).toBe(4);
    expect(m.threads).toBe(1);
    expect(m.kvDtype).toBe('float32');
  });

  it.each([
    ['kind', (j: any) => (j.kind = 'seq2seq')],
    ['contextLength', (j: any) => (j.contextLength = 0)],
    ['numHeads', (j: any) => (j.numHeads = 2.5)],
    ['files.model', (j: any) => (j.files.model = '../../etc/passwd')],
    ['files.tokenizer', (j: any) => delete j.files.tokenizer],
    ['eosToken', (j: any) => (j.eosToken = '')],
    ['specialTokens.end', (j: any) => (j.specialTokens.end = 7)],
    ['inputNames', (j: any) => (j.inputNames = j.inputNames.filter((n: string) => n !== 'past_key_values.1.value'))],
    ['outputNames', (j: any) => (j.outputNames = ['present.0.key'])],
    ['numKvHeads', (j: any) => (j.numKvHeads = 3)],
  ])('names the bad field %s', (field, mutate) => {
    const j = valid();
    mutate(j);
    let err: unknown;
    try {
      parseCausalLmManifest(j);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CausalLmManifestError);
    expect((err as CausalLmManifestError).field).toBe(field);
    expect((err as Error).message).toContain(`"${field}"`);
  });

  it('rejects non-objects', () => {
    expect(() => parseCausalLmManifest(null)).toThrow(/root/);
  });
});
