/**
 * A reader for the subset of the TFLite FlatBuffer schema (schema.fbs) that float models need:
 * Model, SubGraph, Tensor, Buffer, Operator, OperatorCode and the builtin options met in practice.
 * Every read is bounds-checked, so a truncated or corrupt file fails with a FacegateError.
 */
import { ByteBuffer } from 'flatbuffers';
import { FacegateError } from '../util/errors.js';

/** TFLite BuiltinOperator codes this project understands (schema.fbs enum values). */
export const BUILTIN_OPS: Record<number, string> = {
  0: 'ADD',
  1: 'AVERAGE_POOL_2D',
  2: 'CONCATENATION',
  3: 'CONV_2D',
  4: 'DEPTHWISE_CONV_2D',
  6: 'DEQUANTIZE',
  9: 'FULLY_CONNECTED',
  14: 'LOGISTIC',
  17: 'MAX_POOL_2D',
  18: 'MUL',
  19: 'RELU',
  21: 'RELU6',
  22: 'RESHAPE',
  25: 'SOFTMAX',
  34: 'PAD',
  39: 'TRANSPOSE',
  40: 'MEAN',
  41: 'SUB',
  42: 'DIV',
  45: 'STRIDED_SLICE',
  47: 'EXP',
  53: 'CAST',
  54: 'PRELU',
  55: 'MAXIMUM',
  58: 'LESS',
  59: 'NEG',
  62: 'GREATER_EQUAL',
  74: 'SUM',
  82: 'REDUCE_MAX',
  98: 'SQUARED_DIFFERENCE',
  101: 'ABS',
};

/** TensorType enum values → names (only the ones we may meet). */
export const TENSOR_TYPES: Record<number, string> = { 0: 'float32', 1: 'float16', 2: 'int32', 3: 'uint8', 4: 'int64', 9: 'int8' };

export const ACTIVATIONS = ['NONE', 'RELU', 'RELU_N1_TO_1', 'RELU6', 'TANH', 'SIGN_BIT'] as const;
export type Activation = (typeof ACTIVATIONS)[number];

export interface TfliteTensor {
  index: number;
  name: string;
  shape: number[];
  /** shape_signature where present (-1 marks a dynamic dim). */
  shapeSignature?: number[];
  type: string;
  /** Constant data (little-endian bytes), absent for activations. */
  data?: Uint8Array;
}

export interface TfliteOptions {
  padding?: 'SAME' | 'VALID';
  strideW?: number;
  strideH?: number;
  dilationW?: number;
  dilationH?: number;
  depthMultiplier?: number;
  filterW?: number;
  filterH?: number;
  activation?: Activation;
  keepDims?: boolean;
  keepNumDims?: boolean;
  newShape?: number[];
  beta?: number;
  axis?: number;
}

export interface TfliteOperator {
  index: number;
  op: string;
  code: number;
  inputs: number[];
  outputs: number[];
  options: TfliteOptions;
}

export interface TfliteModel {
  version: number;
  description: string;
  tensors: TfliteTensor[];
  inputs: number[];
  outputs: number[];
  operators: TfliteOperator[];
}

const corrupt = (why: string) => new FacegateError('model_corrupt', `not a valid TFLite model: ${why}`);

/** Bounds-checked FlatBuffer table access. Field numbers are schema field indices (0-based). */
class Reader {
  readonly bb: ByteBuffer;
  readonly size: number;
  constructor(bytes: Uint8Array) {
    this.bb = new ByteBuffer(bytes);
    this.size = bytes.length;
  }
  check(pos: number, len: number, what: string): void {
    if (!Number.isInteger(pos) || pos < 0 || len < 0 || pos + len > this.size) throw corrupt(`${what} lies outside the file (truncated?)`);
  }
  /** Position of a field's value inside table `t`, or 0 when absent. */
  field(t: number, field: number): number {
    this.check(t, 4, 'table');
    const vt = t - this.bb.readInt32(t);
    this.check(vt, 4, 'vtable');
    const vtLen = this.bb.readUint16(vt);
    const slot = 4 + 2 * field;
    if (slot + 2 > vtLen) return 0;
    this.check(vt, vtLen, 'vtable');
    const off = this.bb.readUint16(vt + slot);
    return off ? t + off : 0;
  }
  indirect(pos: number, what: string): number {
    this.check(pos, 4, what);
    const target = pos + this.bb.readUint32(pos);
    this.check(target, 4, what);
    return target;
  }
  int(t: number, f: number, dflt: number): number {
    const p = this.field(t, f);
    if (!p) return dflt;
    this.check(p, 4, 'int field');
    return this.bb.readInt32(p);
  }
  uint(t: number, f: number, dflt: number): number {
    const p = this.field(t, f);
    if (!p) return dflt;
    this.check(p, 4, 'uint field');
    return this.bb.readUint32(p);
  }
  byte(t: number, f: number, dflt: number): number {
    const p = this.field(t, f);
    if (!p) return dflt;
    this.check(p, 1, 'byte field');
    return this.bb.readInt8(p);
  }
  float(t: number, f: number, dflt: number): number {
    const p = this.field(t, f);
    if (!p) return dflt;
    this.check(p, 4, 'float field');
    return this.bb.readFloat32(p);
  }
  bool(t: number, f: number): boolean {
    return this.byte(t, f, 0) !== 0;
  }
  /** [start, length] of a vector field, or undefined when absent. */
  vector(t: number, f: number, elemSize: number): [number, number] | undefined {
    const p = this.field(t, f);
    if (!p) return undefined;
    const v = this.indirect(p, 'vector');
    const len = this.bb.readUint32(v);
    this.check(v + 4, len * elemSize, 'vector');
    return [v + 4, len];
  }
  ints(t: number, f: number): number[] | undefined {
    const v = this.vector(t, f, 4);
    if (!v) return undefined;
    const out: number[] = [];
    for (let i = 0; i < v[1]; i++) out.push(this.bb.readInt32(v[0] + 4 * i));
    return out;
  }
  tables(t: number, f: number): number[] {
    const v = this.vector(t, f, 4);
    if (!v) return [];
    const out: number[] = [];
    for (let i = 0; i < v[1]; i++) out.push(this.indirect(v[0] + 4 * i, 'table'));
    return out;
  }
  bytes(t: number, f: number): Uint8Array | undefined {
    const v = this.vector(t, f, 1);
    if (!v) return undefined;
    return this.bb.bytes().subarray(v[0], v[0] + v[1]);
  }
  string(t: number, f: number): string {
    const b = this.bytes(t, f);
    return b ? new TextDecoder().decode(b) : '';
  }
  table(t: number, f: number): number {
    const p = this.field(t, f);
    return p ? this.indirect(p, 'table') : 0;
  }
}

// Field indices from schema.fbs.
const MODEL = { version: 0, operatorCodes: 1, subgraphs: 2, description: 3, buffers: 4 };
const OPCODE = { deprecatedBuiltinCode: 0, customCode: 1, version: 2, builtinCode: 3 };
const SUBGRAPH = { tensors: 0, inputs: 1, outputs: 2, operators: 3 };
const TENSOR = { shape: 0, type: 1, buffer: 2, name: 3, quantization: 4, shapeSignature: 7 };
const BUFFER = { data: 0, offset: 1, size: 2 };
// builtin_options is a union: field 3 holds its type tag, field 4 the table.
const OPERATOR = { opcodeIndex: 0, inputs: 1, outputs: 2, builtinOptions: 4 };

function readOptions(r: Reader, op: string, t: number): TfliteOptions {
  if (!t) return {};
  const act = (f: number): Activation => ACTIVATIONS[r.byte(t, f, 0)] ?? 'NONE';
  const pad = (f: number) => (r.byte(t, f, 0) === 0 ? 'SAME' : 'VALID') as 'SAME' | 'VALID';
  switch (op) {
    case 'CONV_2D':
      return { padding: pad(0), strideW: r.int(t, 1, 1), strideH: r.int(t, 2, 1), activation: act(3), dilationW: r.int(t, 4, 1), dilationH: r.int(t, 5, 1) };
    case 'DEPTHWISE_CONV_2D':
      return {
        padding: pad(0),
        strideW: r.int(t, 1, 1),
        strideH: r.int(t, 2, 1),
        depthMultiplier: r.int(t, 3, 1),
        activation: act(4),
        dilationW: r.int(t, 5, 1),
        dilationH: r.int(t, 6, 1),
      };
    case 'MAX_POOL_2D':
    case 'AVERAGE_POOL_2D':
      return { padding: pad(0), strideW: r.int(t, 1, 1), strideH: r.int(t, 2, 1), filterW: r.int(t, 3, 1), filterH: r.int(t, 4, 1), activation: act(5) };
    case 'FULLY_CONNECTED':
      return { activation: act(0), keepNumDims: r.bool(t, 2) };
    case 'ADD':
    case 'SUB':
    case 'MUL':
    case 'DIV':
      return { activation: act(0) };
    case 'RESHAPE':
      return { newShape: r.ints(t, 0) };
    case 'SUM':
    case 'MEAN':
    case 'REDUCE_MAX':
      return { keepDims: r.bool(t, 0) };
    case 'SOFTMAX':
      return { beta: r.float(t, 0, 1) };
    case 'CONCATENATION':
      return { axis: r.int(t, 0, 0), activation: act(1) };
    default:
      return {};
  }
}

/** Parses a .tflite file (first subgraph only). Throws FacegateError('model_corrupt') on bad input. */
export function readTflite(bytes: Uint8Array): TfliteModel {
  if (bytes.length < 16) throw corrupt(`only ${bytes.length} bytes`);
  const ident = new TextDecoder().decode(bytes.subarray(4, 8));
  if (ident !== 'TFL3') throw corrupt(`file identifier is "${ident.replace(/[^\x20-\x7e]/g, '?')}", expected "TFL3"`);
  const r = new Reader(bytes);
  try {
    const model = r.indirect(0, 'root table');
    const version = r.uint(model, MODEL.version, 0);
    const codes = r.tables(model, MODEL.operatorCodes).map((c) => {
      const deprecated = r.byte(c, OPCODE.deprecatedBuiltinCode, 0);
      const builtin = r.int(c, OPCODE.builtinCode, 0);
      // Old files only fill the deprecated byte; newer ones fill both (the larger is the real code).
      const code = Math.max(deprecated, builtin);
      const custom = r.string(c, OPCODE.customCode);
      return { code, name: custom ? `CUSTOM:${custom}` : (BUILTIN_OPS[code] ?? `BUILTIN_${code}`) };
    });
    const buffers = r.tables(model, MODEL.buffers).map((b) => {
      if (r.field(b, BUFFER.offset)) throw corrupt('buffers stored outside the FlatBuffer are not supported');
      return r.bytes(b, BUFFER.data);
    });
    const subgraphs = r.tables(model, MODEL.subgraphs);
    if (subgraphs.length < 1) throw corrupt('no subgraph');
    const sg = subgraphs[0]!;
    const tensors: TfliteTensor[] = r.tables(sg, SUBGRAPH.tensors).map((t, index) => {
      const typeCode = r.byte(t, TENSOR.type, 0);
      const bufIndex = r.uint(t, TENSOR.buffer, 0);
      if (bufIndex >= buffers.length && bufIndex !== 0) throw corrupt(`tensor ${index} names buffer ${bufIndex} of ${buffers.length}`);
      const data = buffers[bufIndex];
      const tensor: TfliteTensor = {
        index,
        name: r.string(t, TENSOR.name),
        shape: r.ints(t, TENSOR.shape) ?? [],
        type: TENSOR_TYPES[typeCode] ?? `type${typeCode}`,
      };
      const sig = r.ints(t, TENSOR.shapeSignature);
      if (sig) tensor.shapeSignature = sig;
      if (data && data.length > 0) tensor.data = data;
      return tensor;
    });
    const checkIdx = (list: number[] | undefined, what: string) => {
      for (const i of list ?? []) if (i < -1 || i >= tensors.length) throw corrupt(`${what} refers to tensor ${i} of ${tensors.length}`);
      return list ?? [];
    };
    const operators: TfliteOperator[] = r.tables(sg, SUBGRAPH.operators).map((o, index) => {
      const ci = r.uint(o, OPERATOR.opcodeIndex, 0);
      const code = codes[ci];
      if (!code) throw corrupt(`operator ${index} uses opcode ${ci} of ${codes.length}`);
      return {
        index,
        op: code.name,
        code: code.code,
        inputs: checkIdx(r.ints(o, OPERATOR.inputs), `operator ${index}`),
        outputs: checkIdx(r.ints(o, OPERATOR.outputs), `operator ${index}`),
        options: readOptions(r, code.name, r.table(o, OPERATOR.builtinOptions)),
      };
    });
    return {
      version,
      description: r.string(model, MODEL.description),
      tensors,
      inputs: checkIdx(r.ints(sg, SUBGRAPH.inputs), 'subgraph inputs'),
      outputs: checkIdx(r.ints(sg, SUBGRAPH.outputs), 'subgraph outputs'),
      operators,
    };
  } catch (e) {
    if (e instanceof FacegateError) throw e;
    throw corrupt((e as Error).message);
  }
}

/** A tensor's constant data as float32 (copies, so alignment never matters). */
export function tensorFloats(t: TfliteTensor): Float32Array {
  if (!t.data) throw new FacegateError('model_unsupported', `tensor "${t.name}" has no constant data`);
  if (t.type !== 'float32') throw new FacegateError('model_unsupported', `tensor "${t.name}" is ${t.type}; only float32 weights are supported`);
  const n = t.shape.reduce((a, b) => a * b, 1);
  if (t.data.length !== n * 4) throw corrupt(`tensor "${t.name}" holds ${t.data.length} bytes, expected ${n * 4}`);
  const copy = new Uint8Array(t.data);
  return new Float32Array(copy.buffer, 0, n);
}

/** A tensor's constant data as int32. */
export function tensorInts(t: TfliteTensor): number[] {
  if (!t.data || t.type !== 'int32') throw new FacegateError('model_unsupported', `tensor "${t.name}" is not a constant int32 tensor`);
  const dv = new DataView(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  const out: number[] = [];
  for (let i = 0; i + 4 <= t.data.length; i += 4) out.push(dv.getInt32(i, true));
  return out;
}

/**
 * A copy of the file with the (single) input tensor's static shape replaced by `shape` (same rank), for running
 * a fully convolutional model at another size in the TFLite runtime.
 */
export function withInputShape(bytes: Uint8Array, shape: number[]): Uint8Array {
  readTflite(bytes); // validates
  const copy = new Uint8Array(bytes);
  const r = new Reader(copy);
  const model = r.indirect(0, 'root table');
  const sg = r.tables(model, MODEL.subgraphs)[0]!;
  const input = r.ints(sg, SUBGRAPH.inputs)![0]!;
  const tensor = r.tables(sg, SUBGRAPH.tensors)[input]!;
  const dv = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
  for (const f of [TENSOR.shape, TENSOR.shapeSignature]) {
    const v = r.vector(tensor, f, 4);
    if (!v) continue;
    if (v[1] !== shape.length) throw new FacegateError('model_unsupported', `input rank is ${v[1]}, not ${shape.length}`);
    shape.forEach((d, i) => dv.setInt32(v[0] + 4 * i, d, true));
  }
  return copy;
}
