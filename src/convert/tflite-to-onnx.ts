/**
 * Converts a float TFLite graph (NHWC) into an ONNX graph that runs NCHW internally.
 * The ONNX input is uint8 NHWC RGB in natural orientation; the graph casts and normalises ((x - mean) / std).
 * For models trained on transposed images (MTCNN) the swap of H and W is folded into the graph instead of applied
 * to the input: activations stay in natural orientation and every spatial operator (conv kernels, strides, pads,
 * pools, reductions, flattening) is transposed to match, which computes the same values.
 * Callers add the graph outputs themselves from value().
 */
import { FacegateError } from '../util/errors.js';
import { OnnxGraph, type Attrs } from './onnx.js';
import { channelPadding } from './channel-pad.js';
import { findPrelus } from './prelu.js';
import { tensorFloats, tensorInts, type TfliteModel, type TfliteOperator, type TfliteTensor } from './tflite.js';

export interface InputSpec {
  /** ONNX input name. */
  name: string;
  mean: number;
  std: number;
  /** The model was trained on images with width and height swapped. */
  transposeHW: boolean;
  /** Height and width are dynamic (fully convolutional models). */
  dynamicSpatial: boolean;
  /**
   * ONNX input type: 'uint8-nhwc' (default, the engines facegate builds) or 'float-nchw', the layout of
   * insightface-style models (e.g. to test the bring-your-own embedder path with a known network).
   */
  layout?: 'uint8-nhwc' | 'float-nchw';
}

/**
 * An ONNX value standing for a TFLite tensor. 4-D activations are held NCHW (`nchw`), in natural orientation: for a
 * transposeHW model the ONNX H axis is the TFLite tensor's W axis and the other way round.
 */
export interface Val {
  name: string;
  rank: number;
  nchw: boolean;
  /** Channels held when a convolution was widened with zero channels (channel-pad.ts); only convolutions read it. */
  channels?: number;
}

export interface Converted {
  graph: OnnxGraph;
  /** The ONNX value of a TFLite tensor, by TFLite tensor name. */
  value(tensorName: string): Val;
  /** The value in TFLite's own (NHWC, for transposeHW models transposed) layout. */
  toNhwc(v: Val): string;
  /** Natural-orientation input [H, W] (numbers, or 'H'/'W' when dynamic). */
  inputHW: [number | string, number | string];
  preluCount: number;
}

export interface ConvertOptions {
  /**
   * How PReLU is written. 'op': one ONNX PRelu node. 'relu-sum' (default): x + (1 - a) * relu(-x), the same
   * function in two ops that onnxruntime's CPU provider runs in its blocked (NCHWc) conv layout, the Relu fused
   * into the negation: its PRelu kernel is neither vectorised per channel nor layout-aware. Against one PRelu
   * node this ran R-Net, O-Net and MobileFaceNet 1.5-1.9x faster (single thread), and against the three-op
   * a * x + (1 - a) * relu(x) MobileFaceNet another 6%.
   */
  prelu?: 'op' | 'relu-sum';
}

const unsupported = (what: string) => new FacegateError('model_unsupported', `cannot convert this TFLite model: ${what}`);

/**
 * The one place the H/W swap is spelt out. `planes(swap)`: the ONNX order of a TFLite [h, w] pair (dims, strides,
 * pads) and the offset of TFLite spatial index (y, x) in an ONNX h×w plane. `perms(swap)`: the Transpose from the
 * ONNX NCHW activation to TFLite NHWC (also the map from a TFLite NHWC axis to its ONNX axis) and back.
 */
function planes(swap: boolean) {
  return {
    hw: <T>(h: T, w: T): [T, T] => (swap ? [w, h] : [h, w]),
    at: (y: number, x: number, h: number, w: number) => (swap ? x * h + y : y * w + x),
  };
}
const perms = (swap: boolean) => (swap ? { toNhwc: [0, 3, 2, 1], toNchw: [0, 3, 2, 1] } : { toNhwc: [0, 2, 3, 1], toNchw: [0, 3, 1, 2] });

/** TF "SAME" padding for one spatial dim: [begin, end] (the extra pixel goes at the end). */
export function samePads(inSize: number, k: number, s: number, d = 1): [number, number] {
  const out = Math.ceil(inSize / s);
  const total = Math.max((out - 1) * s + (k - 1) * d + 1 - inSize, 0);
  return [Math.floor(total / 2), total - Math.floor(total / 2)];
}

/** Transposes a const of NHWC-broadcast shape (rank ≤ 4) to NCHW [1|C..] order (with H and W swapped if `swap`). */
function toNchwConst(data: Float32Array, shape: number[], swap: boolean): { data: Float32Array; dims: number[] } {
  const s = [...new Array<number>(4 - shape.length).fill(1), ...shape] as [number, number, number, number];
  const [n, h, w, c] = s;
  const { hw, at } = planes(swap);
  const out = new Float32Array(data.length);
  for (let a = 0; a < n; a++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++) for (let ch = 0; ch < c; ch++) out[(a * c + ch) * h * w + at(y, x, h, w)] = data[((a * h + y) * w + x) * c + ch]!;
  return { data: out, dims: [n, c, ...hw(h, w)] };
}

export function convertTflite(model: TfliteModel, spec: InputSpec, graphName: string, opts: ConvertOptions = {}): Converted {
  const g = new OnnxGraph(graphName);
  const T = model.tensors;
  const vals = new Map<number, Val>();

  // ---- input: uint8 natural NHWC → float, normalised, NCHW in the model's orientation
  if (model.inputs.length !== 1) throw unsupported(`${model.inputs.length} inputs (expected 1)`);
  const inT = T[model.inputs[0]!]!;
  if (inT.type !== 'float32' || inT.shape.length !== 4 || inT.shape[3] !== 3)
    throw unsupported(`input "${inT.name}" is ${inT.type} ${JSON.stringify(inT.shape)}, expected float32 [N,H,W,3]`);
  const [, mh, mw] = inT.shape as [number, number, number, number];
  const inputHW: [number | string, number | string] = spec.dynamicSpatial ? ['H', 'W'] : spec.transposeHW ? [mw, mh] : [mh, mw];
  const swap = spec.transposeHW;
  const { hw, at } = planes(swap);
  const perm = perms(swap);
  let x: string;
  if (spec.layout === 'float-nchw') x = g.input(spec.name, 'float', ['N', 3, inputHW[0], inputHW[1]]);
  else {
    const image = g.input(spec.name, 'uint8', ['N', inputHW[0], inputHW[1], 3]);
    // NHWC → NCHW while still uint8 (a quarter of the bytes of float; onnxruntime has a fast path for this move).
    x = g.node('Cast', [g.node('Transpose', [image], { perm: [0, 3, 1, 2] })], { to: 1 });
  }
  // (x - mean) / std, written only if something other than a VALID convolution (which takes it into its
  // weights) reads the input.
  const raw = x;
  let normalised: string | undefined;
  const normalise = () => (normalised ??= g.node('Div', [g.node('Sub', [raw, g.floats('mean', [spec.mean], [])]), g.floats('std', [spec.std], [])]));
  const inputUse = model.operators.filter((op) => op.inputs.includes(inT.index));

  const prelus = findPrelus(model);
  const preluAt = new Map(prelus.map((p) => [p.at, p]));
  const folded = new Set(prelus.flatMap((p) => p.ops));
  const widen = channelPadding(model, prelus);
  /** The one CONV_2D reading the input with VALID padding takes the normalisation into its weights. */
  const foldsInput = (op: TfliteOperator) => op.op === 'CONV_2D' && inputUse.length === 1 && inputUse[0] === op && op.options.padding !== 'SAME';

  const get = (i: number): Val => {
    if (i === inT.index) return { name: normalise(), rank: 4, nchw: true };
    const v = vals.get(i);
    if (!v) throw unsupported(`tensor ${T[i]?.name ?? i} is used before it is computed`);
    return v;
  };
  const isConst = (i: number) => T[i]?.data !== undefined;
  const toNhwc = (v: Val) => {
    if (v.channels !== undefined) throw unsupported(`a widened tensor (${v.name}) reached a layout change`);
    return v.nchw ? g.node('Transpose', [v.name], { perm: perm.toNhwc }) : v.name;
  };
  /** A constant operand laid out to broadcast against `like`. */
  const constLike = (t: TfliteTensor, like: Val, scale = 1): string => {
    let data = tensorFloats(t);
    let shape = t.shape;
    if (scale !== 1) data = data.map((v) => v * scale);
    const c = shape[shape.length - 1]!;
    if (like.channels !== undefined && like.channels !== c) {
      // Per-channel constant of a widened tensor: zeros for the added channels.
      if (data.length !== c) throw unsupported(`constant ${t.name} ${JSON.stringify(shape)} on a widened tensor`);
      const wide = new Float32Array(like.channels);
      wide.set(data);
      data = wide;
      shape = [...shape.slice(0, -1), like.channels];
    }
    if (like.nchw && shape.length <= 4) {
      const nc = toNchwConst(data, shape, swap);
      return g.floats(t.name, nc.data, nc.dims);
    }
    return g.floats(t.name, data, shape);
  };
  /** PReLU of `xv` with slopes `alpha` (times `scale`), written as opts.prelu says. */
  const prelu = (xv: Val, alpha: TfliteTensor, scale = 1): string => {
    if (opts.prelu === 'op') return g.node('PRelu', [xv.name, constLike(alpha, xv, scale)]);
    const a = tensorFloats(alpha).map((v) => v * scale);
    const perChannel = (suffix: string, values: Float32Array) =>
      constLike({ ...alpha, name: `${alpha.name}_${suffix}`, data: new Uint8Array(values.buffer) }, xv);
    // prelu(x) = x for x >= 0 and a * x below: x + (1 - a) * relu(-x).
    const negRelu = g.node('Relu', [
      g.node('Mul', [
        xv.name,
        perChannel(
          'minus_one',
          a.map(() => -1),
        ),
      ]),
    ]);
    return g.node('Add', [
      xv.name,
      g.node('Mul', [
        negRelu,
        perChannel(
          'complement',
          a.map((v) => 1 - v),
        ),
      ]),
    ]);
  };
  const activation = (op: TfliteOperator, v: string): string => {
    switch (op.options.activation ?? 'NONE') {
      case 'NONE':
        return v;
      case 'RELU':
        return g.node('Relu', [v]);
      case 'RELU6':
        return g.node('Clip', [v, g.floats('zero', [0], []), g.floats('six', [6], [])]);
      case 'RELU_N1_TO_1':
        return g.node('Clip', [v, g.floats('m1', [-1], []), g.floats('one', [1], [])]);
      case 'TANH':
        return g.node('Tanh', [v]);
      default:
        throw unsupported(`fused activation ${op.options.activation} on ${op.op}`);
    }
  };
  const spatialAttrs = (op: TfliteOperator, inShape: number[], kh: number, kw: number): Attrs => {
    const sh = op.options.strideH ?? 1;
    const sw = op.options.strideW ?? 1;
    const dh = op.options.dilationH ?? 1;
    const dw = op.options.dilationW ?? 1;
    // In the TFLite model's own axes; swapped into natural orientation at the end.
    const a: Attrs = { kernel_shape: hw(kh, kw), strides: hw(sh, sw) };
    if (op.op.endsWith('CONV_2D')) a.dilations = hw(dh, dw);
    if (op.options.padding === 'SAME') {
      if (spec.dynamicSpatial) a.auto_pad = 'SAME_UPPER';
      else {
        const [t, b] = samePads(inShape[1]!, kh, sh, dh);
        const [l, r] = samePads(inShape[2]!, kw, sw, dw);
        a.pads = [...hw(t, l), ...hw(b, r)];
      }
    }
    return a;
  };

  for (const op of model.operators) {
    const p = preluAt.get(op.index);
    if (p) {
      const xv = get(p.x);
      const y = prelu(xv, T[p.alpha]!, p.scale);
      vals.set(op.outputs[0]!, { ...xv, name: y });
      continue;
    }
    if (folded.has(op.index)) continue;
    const outT = T[op.outputs[0]!]!;
    const set = (name: string, like: Val) => vals.set(outT.index, { name, rank: like.rank, nchw: like.nchw, channels: like.channels });
    switch (op.op) {
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        const fold = foldsInput(op);
        const xv = fold ? { name: raw, rank: 4, nchw: true } : get(op.inputs[0]!);
        if (!xv.nchw) throw unsupported(`${op.op} on a non-4-D input`);
        const wT = T[op.inputs[1]!]!;
        const [o, kh, kw, i] = wT.shape as [number, number, number, number];
        const w = tensorFloats(wT);
        const inShape = T[op.inputs[0]!]!.shape;
        const bi = op.inputs[2];
        let wOnnx: Float32Array;
        let dims: number[];
        let group = 1;
        let outChannels: number | undefined;
        if (op.op === 'CONV_2D') {
          // [O,kh,kw,I] → [O',I',kh,kw] ([O',I',kw,kh] when swapped); O' and I' include zero channels added by
          // widening this convolution or the one before (the added weights stay 0).
          const oo = widen.get(op.index) ?? o;
          const ii = xv.channels ?? i;
          if (ii < i) throw unsupported(`CONV_2D weights for ${i} channels on a ${ii}-channel input`);
          wOnnx = new Float32Array(oo * ii * kh * kw);
          for (let a = 0; a < o; a++)
            for (let y = 0; y < kh; y++)
              for (let z = 0; z < kw; z++) for (let c = 0; c < i; c++) wOnnx[(a * ii + c) * kh * kw + at(y, z, kh, kw)] = w[((a * kh + y) * kw + z) * i + c]!;
          dims = [oo, ii, ...hw(kh, kw)];
          if (oo !== o) outChannels = oo;
        } else {
          // [1,kh,kw,C*M] → [C*M,1,kh,kw] ([C*M,1,kw,kh] when swapped), one group per input channel
          const cm = i;
          const cin = inShape[3]!;
          if (o !== 1 || cm % cin !== 0 || xv.channels !== undefined) throw unsupported(`depthwise weights ${JSON.stringify(wT.shape)} for ${cin} channels`);
          wOnnx = new Float32Array(w.length);
          for (let y = 0; y < kh; y++)
            for (let z = 0; z < kw; z++) for (let c = 0; c < cm; c++) wOnnx[c * kh * kw + at(y, z, kh, kw)] = w[(y * kw + z) * cm + c]!;
          dims = [cm, 1, ...hw(kh, kw)];
          group = cin;
        }
        const bias = new Float32Array(dims[0]!);
        if (bi !== undefined && bi >= 0) bias.set(tensorFloats(T[bi]!));
        if (fold) {
          // conv(W, (x - m) / s) + b = conv(W / s, x) + b - (m / s) * sum(W), exact without padding.
          const per = wOnnx.length / dims[0]!;
          for (let a = 0; a < dims[0]!; a++) {
            let sum = 0;
            for (let k = a * per; k < (a + 1) * per; k++) sum += wOnnx[k]!;
            bias[a] = bias[a]! - (spec.mean / spec.std) * sum;
          }
          for (let k = 0; k < wOnnx.length; k++) wOnnx[k] = wOnnx[k]! / spec.std;
        }
        const inputs = [xv.name, g.floats(wT.name, wOnnx, dims), g.floats(`${wT.name}_bias`, bias, [dims[0]!])];
        const attrs = spatialAttrs(op, inShape, kh, kw);
        if (group > 1) attrs.group = group;
        vals.set(outT.index, { name: activation(op, g.node('Conv', inputs, attrs)), rank: 4, nchw: true, channels: outChannels });
        break;
      }
      case 'MAX_POOL_2D':
      case 'AVERAGE_POOL_2D': {
        const xv = get(op.inputs[0]!);
        if (!xv.nchw) throw unsupported(`${op.op} on a non-4-D input`);
        const attrs = spatialAttrs(op, T[op.inputs[0]!]!.shape, op.options.filterH ?? 1, op.options.filterW ?? 1);
        set(activation(op, g.node(op.op === 'MAX_POOL_2D' ? 'MaxPool' : 'AveragePool', [xv.name], attrs)), xv);
        break;
      }
      case 'FULLY_CONNECTED': {
        const xv = get(op.inputs[0]!);
        const wT = T[op.inputs[1]!]!;
        const [outN, inN] = wT.shape as [number, number];
        let w = tensorFloats(wT);
        let flat = xv.name;
        if (xv.nchw) {
          // TFLite flattens NHWC; permute the weight columns to the ONNX NCHW order (with H and W swapped if so held)
          // instead of transposing the activation.
          const [, h, ww, c] = T[op.inputs[0]!]!.shape as [number, number, number, number];
          if (h * ww * c !== inN) throw unsupported(`FULLY_CONNECTED input ${h}x${ww}x${c} vs weights ${inN}`);
          const p = new Float32Array(w.length);
          for (let r = 0; r < outN; r++)
            for (let y = 0; y < h; y++)
              for (let z = 0; z < ww; z++) for (let ch = 0; ch < c; ch++) p[r * inN + ch * h * ww + at(y, z, h, ww)] = w[r * inN + (y * ww + z) * c + ch]!;
          w = p;
          flat = g.node('Flatten', [xv.name], { axis: 1 });
        } else if (xv.rank !== 2) {
          flat = g.node('Reshape', [xv.name, g.int64s('fc_shape', [-1, inN])]);
        }
        const inputs = [flat, g.floats(wT.name, w, [outN, inN])];
        const bi = op.inputs[2];
        if (bi !== undefined && bi >= 0) inputs.push(g.floats(T[bi]!.name, tensorFloats(T[bi]!), [outN]));
        const y = g.node('Gemm', inputs, { transB: 1 });
        vals.set(outT.index, { name: activation(op, y), rank: 2, nchw: false });
        break;
      }
      case 'ADD':
      case 'SUB':
      case 'MUL':
      case 'DIV': {
        const [a, b] = op.inputs as [number, number];
        let an: string;
        let bn: string;
        let like: Val;
        if (isConst(a) && isConst(b)) throw unsupported(`${op.op} of two constants`);
        if (isConst(a)) {
          like = get(b);
          an = constLike(T[a]!, like);
          bn = like.name;
        } else if (isConst(b)) {
          like = get(a);
          an = like.name;
          bn = constLike(T[b]!, like);
        } else {
          const av = get(a);
          const bv = get(b);
          if (av.nchw !== bv.nchw || av.rank !== bv.rank) throw unsupported(`${op.op} between tensors of different layouts`);
          like = av;
          an = av.name;
          bn = bv.name;
        }
        const onnxOp = { ADD: 'Add', SUB: 'Sub', MUL: 'Mul', DIV: 'Div' }[op.op]!;
        set(activation(op, g.node(onnxOp, [an, bn])), like);
        break;
      }
      case 'RELU':
      case 'NEG':
      case 'ABS':
      case 'EXP':
      case 'LOGISTIC': {
        const xv = get(op.inputs[0]!);
        const onnxOp = { RELU: 'Relu', NEG: 'Neg', ABS: 'Abs', EXP: 'Exp', LOGISTIC: 'Sigmoid' }[op.op]!;
        set(g.node(onnxOp, [xv.name]), xv);
        break;
      }
      case 'RELU6': {
        const xv = get(op.inputs[0]!);
        set(g.node('Clip', [xv.name, g.floats('zero', [0], []), g.floats('six', [6], [])]), xv);
        break;
      }
      case 'PRELU': {
        const xv = get(op.inputs[0]!);
        set(prelu(xv, T[op.inputs[1]!]!), xv);
        break;
      }
      case 'SUM':
      case 'REDUCE_MAX':
      case 'MEAN': {
        const xv = get(op.inputs[0]!);
        const rank = xv.rank;
        let axes = tensorInts(T[op.inputs[1]!]!).map((a) => (a < 0 ? a + rank : a));
        const keep = op.options.keepDims ?? false;
        let input = xv.name;
        let nchw = false;
        if (xv.nchw && keep) {
          axes = axes.map((a) => perm.toNhwc[a]!);
          nchw = true;
        } else if (xv.nchw) input = toNhwc(xv);
        const onnxOp = { SUM: 'ReduceSum', REDUCE_MAX: 'ReduceMax', MEAN: 'ReduceMean' }[op.op]!;
        // Opset 13: ReduceSum takes axes as an input, the others as an attribute.
        const y =
          onnxOp === 'ReduceSum'
            ? g.node(onnxOp, [input, g.int64s('axes', axes)], { keepdims: keep ? 1 : 0 })
            : g.node(onnxOp, [input], { axes, keepdims: keep ? 1 : 0 });
        vals.set(outT.index, { name: y, rank: keep ? rank : rank - axes.length, nchw });
        break;
      }
      case 'SOFTMAX': {
        const xv = get(op.inputs[0]!);
        let v = xv.name;
        const beta = op.options.beta ?? 1;
        if (beta !== 1) v = g.node('Mul', [v, g.floats('beta', [beta], [])]);
        set(g.node('Softmax', [v], { axis: xv.nchw ? 1 : -1 }), xv);
        break;
      }
      case 'RESHAPE': {
        const xv = get(op.inputs[0]!);
        const inShape = T[op.inputs[0]!]!.shape;
        const outShape = [...outT.shape];
        if (outShape.slice(1).some((d) => d < 0)) throw unsupported(`RESHAPE to ${JSON.stringify(outShape)}`);
        // Batch stays dynamic: the leading dim becomes -1 (the rest are static).
        const out4 = outShape.length === 4;
        // NCHW and NHWC share memory order when H = W = 1, so no transpose is needed then.
        const trivial = xv.nchw && inShape[1] === 1 && inShape[2] === 1 && !out4;
        const src = xv.nchw && !trivial ? toNhwc(xv) : xv.name;
        let y = g.node('Reshape', [src, g.int64s('shape', [-1, ...outShape.slice(1)])]);
        if (out4) y = g.node('Transpose', [y], { perm: perm.toNchw });
        vals.set(outT.index, { name: y, rank: outShape.length, nchw: out4 });
        break;
      }
      default:
        throw unsupported(`operator ${op.op} (#${op.index}) is not supported`);
    }
  }

  return {
    graph: g,
    value(tensorName: string): Val {
      const t = T.find((tt) => tt.name === tensorName);
      if (!t) throw unsupported(`no tensor named "${tensorName}"`);
      const v = get(t.index);
      if (v.channels !== undefined) throw unsupported(`tensor "${tensorName}" is held widened`);
      return v;
    },
    toNhwc,
    inputHW,
    preluCount: prelus.length,
  };
}
