/**
 * A small ONNX graph builder and encoder. The protobuf messages are a hand-written subset of onnx.proto
 * (field numbers as in the ONNX spec), encoded with protobufjs.
 */
import protobuf from 'protobufjs';

const ONNX_PROTO = `
syntax = "proto3";
package onnx;
message AttributeProto {
  string name = 1; float f = 2; int64 i = 3; bytes s = 4; TensorProto t = 5;
  repeated float floats = 7; repeated int64 ints = 8; int32 type = 20;
}
message ValueInfoProto { string name = 1; TypeProto type = 2; string doc_string = 3; }
message NodeProto {
  repeated string input = 1; repeated string output = 2; string name = 3; string op_type = 4;
  repeated AttributeProto attribute = 5; string doc_string = 6; string domain = 7;
}
message StringStringEntryProto { string key = 1; string value = 2; }
message TensorProto {
  repeated int64 dims = 1; int32 data_type = 2; string name = 8; bytes raw_data = 9;
}
message TensorShapeProto {
  message Dimension { oneof value { int64 dim_value = 1; string dim_param = 2; } }
  repeated Dimension dim = 1;
}
message TypeProto {
  message Tensor { int32 elem_type = 1; TensorShapeProto shape = 2; }
  oneof value { Tensor tensor_type = 1; }
}
message GraphProto {
  repeated NodeProto node = 1; string name = 2; repeated TensorProto initializer = 5; string doc_string = 10;
  repeated ValueInfoProto input = 11; repeated ValueInfoProto output = 12;
}
message OperatorSetIdProto { string domain = 1; int64 version = 2; }
message ModelProto {
  int64 ir_version = 1; string producer_name = 2; string producer_version = 3; string domain = 4;
  int64 model_version = 5; string doc_string = 6; GraphProto graph = 7;
  repeated OperatorSetIdProto opset_import = 8; repeated StringStringEntryProto metadata_props = 14;
}
`;

let modelType: protobuf.Type | undefined;
const getModelType = () => (modelType ??= protobuf.parse(ONNX_PROTO, { keepCase: true }).root.lookupType('onnx.ModelProto'));

/** ONNX TensorProto.DataType values. */
export const DT = { float: 1, uint8: 2, int32: 6, int64: 7 } as const;
export type DType = keyof typeof DT;

/** AttributeProto.AttributeType values. */
const AT = { FLOAT: 1, INT: 2, STRING: 3, FLOATS: 6, INTS: 7 } as const;

export type AttrValue = number | number[] | string | { floats: number[] };
export type Attrs = Record<string, AttrValue | undefined>;

/** A dimension: a fixed size, or a name for a dynamic one. */
export type Dim = number | string;

interface Initializer {
  name: string;
  dims: number[];
  data_type: number;
  raw_data: Uint8Array;
}

function encodeAttr(name: string, v: AttrValue): object {
  if (typeof v === 'string') return { name, type: AT.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: AT.INTS, ints: v };
  if (typeof v === 'object') return { name, type: AT.FLOATS, floats: v.floats };
  // Integral numbers are INT attributes, others FLOAT.
  return Number.isInteger(v) && !Object.is(v, -0) ? { name, type: AT.INT, i: v } : { name, type: AT.FLOAT, f: v };
}

const valueInfo = (name: string, dtype: DType, shape: Dim[]) => ({
  name,
  type: {
    tensor_type: {
      elem_type: DT[dtype],
      shape: { dim: shape.map((d) => (typeof d === 'number' && d >= 0 ? { dim_value: d } : { dim_param: String(d) })) },
    },
  },
});

/** Builds one ONNX graph: add initializers and nodes in topological order, then encode(). */
export class OnnxGraph {
  private readonly nodes: object[] = [];
  private readonly inits: Initializer[] = [];
  private readonly inputs: object[] = [];
  private readonly outputs: object[] = [];
  private readonly used = new Set<string>();
  private counter = 0;

  constructor(readonly name: string) {}

  /** A fresh value name based on `hint`. */
  fresh(hint: string): string {
    let name = hint.replace(/[^A-Za-z0-9_./:-]/g, '_') || 'v';
    while (this.used.has(name)) name = `${hint}_${++this.counter}`;
    this.used.add(name);
    return name;
  }

  input(name: string, dtype: DType, shape: Dim[]): string {
    this.used.add(name);
    this.inputs.push(valueInfo(name, dtype, shape));
    return name;
  }

  output(name: string, dtype: DType, shape: Dim[]): void {
    this.outputs.push(valueInfo(name, dtype, shape));
  }

  /** A float32 initializer. */
  floats(hint: string, data: Float32Array | number[], dims: number[]): string {
    const arr = data instanceof Float32Array ? data : Float32Array.from(data);
    const n = dims.reduce((a, b) => a * b, 1);
    if (arr.length !== n) throw new Error(`initializer ${hint}: ${arr.length} values for dims ${dims}`);
    return this.init(hint, DT.float, dims, new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength));
  }

  /** An int64 initializer. */
  int64s(hint: string, data: number[], dims: number[] = [data.length]): string {
    const arr = BigInt64Array.from(data.map((v) => BigInt(v)));
    return this.init(hint, DT.int64, dims, new Uint8Array(arr.buffer));
  }

  private init(hint: string, dataType: number, dims: number[], raw: Uint8Array): string {
    const name = this.fresh(hint);
    this.inits.push({ name, dims, data_type: dataType, raw_data: new Uint8Array(raw) });
    return name;
  }

  /** Adds a node; returns its (first) output name. */
  node(op: string, inputs: string[], attrs: Attrs = {}, outName?: string): string {
    const out = outName ?? this.fresh(`${op}_${this.nodes.length}`);
    if (outName) this.used.add(outName);
    const attribute = Object.entries(attrs)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => encodeAttr(k, v as AttrValue));
    this.nodes.push({ input: inputs, output: [out], name: `${op}_${this.nodes.length}`, op_type: op, attribute });
    return out;
  }

  get nodeCount(): number {
    return this.nodes.length;
  }

  /** The op type of each node, in order. */
  get opTypes(): string[] {
    return this.nodes.map((n) => (n as { op_type: string }).op_type);
  }

  /** Serialises to a ModelProto (ir_version 8, opset 13). */
  encode(meta: { producer: string; version: string; doc?: string; props?: Record<string, string> }): Uint8Array {
    const T = getModelType();
    const message = T.fromObject({
      ir_version: 8,
      producer_name: meta.producer,
      producer_version: meta.version,
      doc_string: meta.doc ?? '',
      opset_import: [{ domain: '', version: 13 }],
      metadata_props: Object.entries(meta.props ?? {}).map(([key, value]) => ({ key, value })),
      graph: { name: this.name, node: this.nodes, initializer: this.inits, input: this.inputs, output: this.outputs },
    });
    return T.encode(message).finish();
  }
}
