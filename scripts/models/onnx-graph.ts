import { onnx } from 'onnx-proto';

type Dim = number | string;
type AttrValue = number | number[] | { float: number };

const DT = onnx.TensorProto.DataType;

/** Minimal ONNX graph builder: nodes, initializers and typed graph inputs/outputs. */
export class OnnxGraphBuilder {
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly initializers: onnx.ITensorProto[] = [];
  private readonly inputs: onnx.IValueInfoProto[] = [];
  private readonly outputs: onnx.IValueInfoProto[] = [];
  private counter = 0;

  /** Adds a node; returns its output names (auto-named unless given). */
  node(op: string, inputs: string[], opts: { outputs?: string[]; nOut?: number; attrs?: Record<string, AttrValue> } = {}): string[] {
    const outputs = opts.outputs ?? Array.from({ length: opts.nOut ?? 1 }, () => `${op}_${this.counter++}`);
    const attribute = Object.entries(opts.attrs ?? {}).map(([name, v]) => attr(name, v));
    this.nodes.push({ opType: op, name: `${op}_node_${this.nodes.length}`, input: inputs, output: outputs, attribute });
    return outputs;
  }

  /** Shorthand for single-output nodes. */
  op(op: string, inputs: string[], attrs?: Record<string, AttrValue>, output?: string): string {
    return this.node(op, inputs, { attrs, outputs: output ? [output] : undefined })[0];
  }

  floatInit(name: string, dims: number[], data: Float32Array): string {
    this.initializers.push({ name, dims, dataType: DT.FLOAT, rawData: bytesOf(data) });
    return name;
  }

  int64Init(name: string, dims: number[], values: number[]): string {
    this.initializers.push({ name, dims, dataType: DT.INT64, rawData: bytesOf(BigInt64Array.from(values.map(BigInt))) });
    return name;
  }

  input(name: string, elemType: number, dims: Dim[]): string {
    this.inputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  output(name: string, elemType: number, dims: Dim[]): string {
    this.outputs.push(valueInfo(name, elemType, dims));
    return name;
  }

  toModelBytes(graphName: string, opset: number, producer: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: producer,
      producerVersion: '1',
      opsetImport: [{ domain: '', version: opset }],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

export const ELEM = { FLOAT: DT.FLOAT, INT64: DT.INT64, BOOL: DT.BOOL } as const;

function valueInfo(name: string, elemType: number, dims: Dim[]): onnx.IValueInfoProto {
  return {
    name,
    type: { tensorType: { elemType, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) } } },
  };
}

function attr(name: string, v: AttrValue): onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  return { name, type: T.FLOAT, f: v.float };
}

/** Little-endian bytes of a typed array (copied, so the caller's buffer offset does not matter). */
function bytesOf(a: Float32Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));
}
