/**
 * Counts multiply-accumulates of a TFLite graph's conv / depthwise / fully-connected layers for a given input
 * size (model orientation, NHWC), by propagating shapes. FLOPs ≈ 2 × MACs.
 */
import { tensorInts, type TfliteModel } from './tflite.js';

export interface MacCount {
  macs: number;
  /** Weights in conv / fc layers. */
  params: number;
}

const outSize = (n: number, k: number, s: number, d: number, same: boolean) => (same ? Math.ceil(n / s) : Math.ceil((n - (k - 1) * d) / s));

export function countMacs(model: TfliteModel, inputShape: number[]): MacCount {
  const T = model.tensors;
  const shapes = new Map<number, number[]>();
  shapes.set(model.inputs[0]!, inputShape);
  const shape = (i: number) => shapes.get(i) ?? T[i]!.shape;
  let macs = 0;
  let params = 0;
  for (const op of model.operators) {
    const x = shape(op.inputs[0]!);
    const o = op.options;
    let out: number[];
    switch (op.op) {
      case 'CONV_2D':
      case 'DEPTHWISE_CONV_2D': {
        const w = T[op.inputs[1]!]!.shape as [number, number, number, number];
        const [, kh, kw] = w;
        const cout = op.op === 'CONV_2D' ? w[0] : w[3];
        const same = o.padding === 'SAME';
        out = [x[0]!, outSize(x[1]!, kh, o.strideH ?? 1, o.dilationH ?? 1, same), outSize(x[2]!, kw, o.strideW ?? 1, o.dilationW ?? 1, same), cout];
        const perOut = op.op === 'CONV_2D' ? kh * kw * w[3] : kh * kw;
        macs += out[0]! * out[1]! * out[2]! * cout * perOut;
        params += w.reduce((a, b) => a * b, 1);
        break;
      }
      case 'MAX_POOL_2D':
      case 'AVERAGE_POOL_2D': {
        const same = o.padding === 'SAME';
        out = [x[0]!, outSize(x[1]!, o.filterH ?? 1, o.strideH ?? 1, 1, same), outSize(x[2]!, o.filterW ?? 1, o.strideW ?? 1, 1, same), x[3]!];
        break;
      }
      case 'FULLY_CONNECTED': {
        const [units, inN] = T[op.inputs[1]!]!.shape as [number, number];
        const batch = x.reduce((a, b) => a * b, 1) / inN;
        out = [batch, units];
        macs += batch * units * inN;
        params += units * inN;
        break;
      }
      case 'SUM':
      case 'REDUCE_MAX':
      case 'MEAN': {
        const axes = tensorInts(T[op.inputs[1]!]!).map((a) => (a < 0 ? a + x.length : a));
        out = o.keepDims ? x.map((d, i) => (axes.includes(i) ? 1 : d)) : x.filter((_, i) => !axes.includes(i));
        break;
      }
      case 'RESHAPE':
        out = T[op.outputs[0]!]!.shape;
        break;
      default: {
        // Elementwise: broadcast of the non-constant inputs.
        const dyn = op.inputs.filter((i) => i >= 0 && T[i]!.data === undefined).map(shape);
        out = dyn.reduce((a, b) => (b.length > a.length ? b : a.map((d, i) => Math.max(d, b[i - (a.length - b.length)] ?? 1))), dyn[0] ?? x);
      }
    }
    shapes.set(op.outputs[0]!, out);
  }
  return { macs, params };
}
