import { ELEM, OnnxGraphBuilder } from './onnx-graph';

export interface NgramTables {
  vocabSize: number;
  /** [V, V]: weighted bigram + unigram probabilities of the next token given the current one. */
  bigram: Float32Array;
  /** [V * V] int64 row of `trigram` for context (prev, cur); 0 = unseen (row 0 is all zeros). */
  contextRow: number[];
  /** [rows, V]: weighted trigram probabilities of the next token given (prev, cur). */
  trigram: Float32Array;
  /** Token taken as "previous" before the first one (and in place of padding). */
  bosId: number;
  /** [V, V]: how much a token in the conversation so far raises each next token's logit. */
  topic: Float32Array;
  /** The <|assistant|> header token: the topic counts only tokens up to its last occurrence. */
  assistantId: number;
}

/**
 * An interpolated trigram model in the standard decoder-only layout, so the same runtime (and
 * its continuous batching) runs it: the one-layer "KV cache" stores the token ids seen so far
 * (head dim 1), which is where the previous token comes from; logits = log(P3 + P2 + P1), the
 * weights baked into the tables by the builder.
 */
export function buildTroupeChatOnnx(t: NgramTables): Uint8Array {
  const V = t.vocabSize;
  const g = new OnnxGraphBuilder();
  const inputIds = g.input('input_ids', ELEM.INT64, ['batch_size', 'sequence_length']);
  const mask = g.input('attention_mask', ELEM.INT64, ['batch_size', 'past_sequence_length + sequence_length']);
  g.input('position_ids', ELEM.INT64, ['batch_size', 'sequence_length']);
  const pastK = g.input('past_key_values.0.key', ELEM.FLOAT, ['batch_size', 1, 'past_sequence_length', 1]);
  const pastV = g.input('past_key_values.0.value', ELEM.FLOAT, ['batch_size', 1, 'past_sequence_length', 1]);

  const bigram = g.floatInit('bigram', [V, V], t.bigram);
  const trigram = g.floatInit('trigram', [t.trigram.length / V, V], t.trigram);
  const contextRow = g.int64Init('context_row', [V * V], t.contextRow);
  const topicTable = g.floatInit('topic', [V, V], t.topic);
  const vConst = g.int64Init('c_v', [], [V]);
  const bos = g.int64Init('c_bos', [1, 1], [t.bosId]);
  const zeroCol = g.int64Init('c_zero_col', [1, 1], [0]);
  const one = g.int64Init('c_one', [1], [1]);
  const axis1 = g.int64Init('c_axis1', [1], [1]);
  const kvShape = g.int64Init('c_kv_shape', [4], [0, 1, -1, 1]);
  const flatShape = g.int64Init('c_flat_shape', [2], [0, -1]);

  // present = past ++ ids of the new tokens (as floats), [B,1,P+S,1]; value mirrors key.
  const newK = g.op('Reshape', [g.op('Cast', [inputIds], { to: ELEM.FLOAT }), kvShape]);
  const present = g.op('Concat', [pastK, newK], { axis: 2 }, 'present.0.key');
  g.op('Concat', [pastV, newK], { axis: 2 }, 'present.0.value');

  // Previous token of each new position: all ids with BOS prepended, sliced at [P, P+S);
  // where the previous slot is padding (mask 0) or before the start, BOS.
  const batch = g.op('Gather', [g.op('Shape', [inputIds]), g.int64Init('c_zero', [1], [0])], { axis: 0 }); // [1]
  const bcast = g.op('Concat', [batch, one], { axis: 0 }); // [B,1]
  const allIds = g.op('Cast', [g.op('Reshape', [present, flatShape])], { to: ELEM.INT64 }); // [B,P+S]
  const withBos = g.op('Concat', [g.op('Expand', [bos, bcast]), allIds], { axis: 1 }); // [B,1+P+S]
  const maskShifted = g.op('Concat', [g.op('Expand', [zeroCol, bcast]), mask], { axis: 1 });
  const pastLen = g.op('Gather', [g.op('Shape', [pastK]), g.int64Init('c_two', [1], [2])], { axis: 0 }); // [1]
  const seqLen = g.op('Gather', [g.op('Shape', [inputIds]), one], { axis: 0 }); // [1]
  const end = g.op('Add', [pastLen, seqLen]);
  const prevRaw = g.op('Slice', [withBos, pastLen, end, axis1]); // [B,S]
  const prevOk = g.op('Cast', [g.op('Slice', [maskShifted, pastLen, end, axis1])], { to: ELEM.BOOL });
  const prev = g.op('Where', [prevOk, prevRaw, g.op('Expand', [bos, bcast])]);

  const row = g.op('Gather', [contextRow, g.op('Add', [g.op('Mul', [prev, vConst]), inputIds])], { axis: 0 }); // [B,S]
  const mix = g.op('Add', [g.op('Gather', [trigram, row], { axis: 0 }), g.op('Gather', [bigram, inputIds], { axis: 0 })]); // [B,S,V]
  // Topic: every token of the conversation before the current answer (padding masked out)
  // adds its association row, so the answer leans towards words that followed such questions
  // in the corpus. The answer's own tokens do not count (they would feed back on themselves):
  // only tokens up to the last <|assistant|> header do, found with a reversed cumulative sum.
  // Summed over the whole window, which is causal for the last position (the one sampled).
  const isHeader = g.op('Cast', [g.op('Equal', [allIds, g.int64Init('c_assistant', [], [t.assistantId])])], { to: ELEM.FLOAT });
  const beforeAnswer = g.op('Cast', [g.op('Greater', [g.op('CumSum', [isHeader, g.int64Init('c_axis1_scalar', [], [1])], { reverse: 1 }), g.floatInit('c_zero_f', [], Float32Array.of(0))])], { to: ELEM.FLOAT });
  const weight = g.op('Mul', [g.op('Cast', [mask], { to: ELEM.FLOAT }), beforeAnswer]);
  const seen = g.op('Mul', [g.op('Gather', [topicTable, allIds], { axis: 0 }), g.op('Unsqueeze', [weight, g.int64Init('c_axis2', [1], [2])])]); // [B,P+S,V]
  const topicBoost = g.op('Unsqueeze', [g.op('ReduceSum', [seen, axis1], { keepdims: 0 }), axis1]); // [B,1,V]
  g.op('Add', [g.op('Log', [mix]), topicBoost], undefined, 'logits');

  g.output('logits', ELEM.FLOAT, ['batch_size', 'sequence_length', V]);
  g.output('present.0.key', ELEM.FLOAT, ['batch_size', 1, 'past_sequence_length + sequence_length', 1]);
  g.output('present.0.value', ELEM.FLOAT, ['batch_size', 1, 'past_sequence_length + sequence_length', 1]);
  return g.toModelBytes('troupe-chat', 17, 'troupe-build-models');
}
