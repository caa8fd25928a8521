import { ELEM, OnnxGraphBuilder } from './onnx-graph';
import { Mulberry32 } from './prng';

export interface TinyEmbedderConfig {
  vocabSize: number;
  /** Token embedding width. */
  hidden: number;
  /** Output vector width. */
  dimensions: number;
  seed: number;
}

/**
 * A bag-of-tokens sentence encoder: token embeddings, mean-pooled over the attention mask,
 * projected and L2-normalised, all inside the graph (input_ids, attention_mask -> embeddings).
 * With random weights it measures token overlap: texts that share (sub)words land close.
 */
export function buildTinyEmbedderOnnx(cfg: TinyEmbedderConfig): Uint8Array {
  const { vocabSize: V, hidden: E, dimensions: D } = cfg;
  const rng = new Mulberry32(cfg.seed);
  const g = new OnnxGraphBuilder();
  const inputIds = g.input('input_ids', ELEM.INT64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', ELEM.INT64, ['batch_size', 'sequence_length']);

  const wte = g.floatInit('wte', [V, E], rng.uniform(V * E, 1));
  const proj = g.floatInit('proj', [E, D], rng.uniform(E * D, Math.sqrt(3 / E)));
  const axes1 = g.int64Init('c_axes1', [1], [1]);
  const axes2 = g.int64Init('c_axes2', [1], [2]);
  const one = g.floatInit('c_one', [], Float32Array.of(1));
  const tiny = g.floatInit('c_eps', [], Float32Array.of(1e-12));

  const m = g.op('Unsqueeze', [g.op('Cast', [mask], { to: ELEM.FLOAT }), axes2]); // [B,T,1]
  const summed = g.op('ReduceSum', [g.op('Mul', [g.op('Gather', [wte, inputIds], { axis: 0 }), m]), axes1], { keepdims: 0 }); // [B,E]
  const count = g.op('Max', [g.op('ReduceSum', [m, axes1], { keepdims: 0 }), one]); // [B,1]
  const projected = g.op('MatMul', [g.op('Div', [summed, count]), proj]); // [B,D]
  const norm = g.op('Max', [g.op('ReduceL2', [projected], { axes: [1], keepdims: 1 }), tiny]);
  g.op('Div', [projected, norm], undefined, 'embeddings');
  g.output('embeddings', ELEM.FLOAT, ['batch_size', D]);
  return g.toModelBytes('tiny-embedder', 17, 'troupe-build-models');
}
