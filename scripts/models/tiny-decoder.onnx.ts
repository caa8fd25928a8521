import { ELEM, OnnxGraphBuilder } from './onnx-graph';
import { Mulberry32 } from './prng';

export interface TinyDecoderConfig {
  vocabSize: number;
  contextLength: number;
  numLayers: number;
  numHeads: number;
  headDim: number;
  /** MLP inner width. */
  mlpHidden: number;
  seed: number;
}

/**
 * A GPT-2-shaped decoder-only transformer with random weights, exported in the same
 * input/output layout Hugging Face Optimum uses (input_ids, attention_mask, position_ids,
 * past_key_values.{i}.key/value -> logits, present.{i}.key/value), so the runtime that runs it
 * also runs real exported models.
 */
export function buildTinyDecoderOnnx(cfg: TinyDecoderConfig): Uint8Array {
  const { vocabSize: V, contextLength: C, numLayers: L, numHeads: H, headDim: D, mlpHidden: M } = cfg;
  const E = H * D;
  const rng = new Mulberry32(cfg.seed);
  const g = new OnnxGraphBuilder();
  // Uniform(-s, s) has std s/sqrt(3); this gives std 1/sqrt(fanIn) so activations stay O(1).
  const dense = (name: string, fanIn: number, fanOut: number) => g.floatInit(name, [fanIn, fanOut], rng.uniform(fanIn * fanOut, Math.sqrt(3 / fanIn)));
  const bias = (name: string, n: number) => g.floatInit(name, [n], rng.uniform(n, 0.02));
  const ones = (name: string, n: number) => g.floatInit(name, [n], new Float32Array(n).fill(1));
  const zeros = (name: string, n: number) => g.floatInit(name, [n], new Float32Array(n));
  const i64 = (name: string, values: number[], scalar = false) => g.int64Init(name, scalar ? [] : [values.length], values);
  const f32 = (name: string, v: number) => g.floatInit(name, [], Float32Array.of(v));

  const batch = 'batch_size';
  const seq = 'sequence_length';
  const past = 'past_sequence_length';
  const total = 'past_sequence_length + sequence_length';

  const inputIds = g.input('input_ids', ELEM.INT64, [batch, seq]);
  const attentionMask = g.input('attention_mask', ELEM.INT64, [batch, total]);
  const positionIds = g.input('position_ids', ELEM.INT64, [batch, seq]);
  for (let i = 0; i < L; i++) {
    g.input(`past_key_values.${i}.key`, ELEM.FLOAT, [batch, H, past, D]);
    g.input(`past_key_values.${i}.value`, ELEM.FLOAT, [batch, H, past, D]);
  }

  // Constants.
  const zero = i64('c_zero', [0], true);
  const one = i64('c_one', [1], true);
  const axis0 = i64('c_axes0', [0]);
  const axis1 = i64('c_axes1', [1]);
  const axes12 = i64('c_axes12', [1, 2]);
  const headsShape = i64('c_heads_shape', [0, 0, H, D]);
  const mergeShape = i64('c_merge_shape', [0, 0, E]);
  const scale = f32('c_scale', 1 / Math.sqrt(D));
  const negBig = f32('c_neg', -1e9);
  const geluK = f32('c_gelu_k', 1.702);

  // Attention mask [B,1,S,T]: query i sits at absolute position past+i and may see key j when
  // j <= past+i (causal, works with a KV cache) and attention_mask[b, j] == 1 (padding).
  const seqLen = g.op('Gather', [g.op('Shape', [inputIds]), one], { axis: 0 });
  const totalLen = g.op('Gather', [g.op('Shape', [attentionMask]), one], { axis: 0 });
  const pastLen = g.op('Sub', [totalLen, seqLen]);
  const qPos = g.op('Unsqueeze', [g.op('Range', [pastLen, totalLen, one]), axis1]); // [S,1]
  const kPos = g.op('Unsqueeze', [g.op('Range', [zero, totalLen, one]), axis0]); // [1,T]
  const causal = g.op('LessOrEqual', [kPos, qPos]); // [S,T]
  const padOk = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { to: ELEM.BOOL }), axes12]); // [B,1,1,T]
  const allowed = g.op('And', [causal, padOk]); // [B,1,S,T]

  // Token + learned positional embeddings.
  const wte = g.floatInit('wte', [V, E], rng.uniform(V * E, 0.1));
  const wpe = g.floatInit('wpe', [C, E], rng.uniform(C * E, 0.05));
  let x = g.op('Add', [g.op('Gather', [wte, inputIds], { axis: 0 }), g.op('Gather', [wpe, positionIds], { axis: 0 })]);

  const layerNorm = (input: string, prefix: string) =>
    g.op('LayerNormalization', [input, ones(`${prefix}.weight`, E), zeros(`${prefix}.bias`, E)], { axis: -1, epsilon: { float: 1e-5 } });
  const linear = (input: string, prefix: string, fanIn: number, fanOut: number) =>
    g.op('Add', [g.op('MatMul', [input, dense(`${prefix}.weight`, fanIn, fanOut)]), bias(`${prefix}.bias`, fanOut)]);
  const toHeads = (t: string) => g.op('Transpose', [g.op('Reshape', [t, headsShape])], { perm: [0, 2, 1, 3] }); // [B,H,S,D]

  for (let i = 0; i < L; i++) {
    const p = `h.${i}`;
    const h = layerNorm(x, `${p}.ln_1`);
    const q = toHeads(linear(h, `${p}.attn.q`, E, E));
    const kNew = toHeads(linear(h, `${p}.attn.k`, E, E));
    const vNew = toHeads(linear(h, `${p}.attn.v`, E, E));
    const k = g.op('Concat', [`past_key_values.${i}.key`, kNew], { axis: 2 }, `present.${i}.key`); // [B,H,T,D]
    const v = g.op('Concat', [`past_key_values.${i}.value`, vNew], { axis: 2 }, `present.${i}.value`);
    const scores = g.op('Mul', [g.op('MatMul', [q, g.op('Transpose', [k], { perm: [0, 1, 3, 2] })]), scale]); // [B,H,S,T]
    // A finite fill (not -inf) keeps fully padded rows NaN-free.
    const probs = g.op('Softmax', [g.op('Where', [allowed, scores, negBig])], { axis: -1 });
    const ctx = g.op('Reshape', [g.op('Transpose', [g.op('MatMul', [probs, v])], { perm: [0, 2, 1, 3] }), mergeShape]); // [B,S,E]
    x = g.op('Add', [x, linear(ctx, `${p}.attn.out`, E, E)]);

    // MLP with "quick GELU" x*sigmoid(1.702x): opset 17 has no Gelu op.
    const up = linear(layerNorm(x, `${p}.ln_2`), `${p}.mlp.up`, E, M);
    const act = g.op('Mul', [up, g.op('Sigmoid', [g.op('Mul', [up, geluK])])]);
    x = g.op('Add', [x, linear(act, `${p}.mlp.down`, M, E)]);
  }

  const lmHead = dense('lm_head.weight', E, V);
  g.op('MatMul', [layerNorm(x, 'ln_f'), lmHead], undefined, 'logits');

  g.output('logits', ELEM.FLOAT, [batch, seq, V]);
  for (let i = 0; i < L; i++) {
    g.output(`present.${i}.key`, ELEM.FLOAT, [batch, H, total, D]);
    g.output(`present.${i}.value`, ELEM.FLOAT, [batch, H, total, D]);
  }
  return g.toModelBytes('tiny-decoder', 17, 'troupe-build-models');
}
