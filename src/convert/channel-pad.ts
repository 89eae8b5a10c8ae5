/**
 * Which convolutions to widen with all-zero filters. onnxruntime's CPU provider runs convolutions, pools and the
 * PReLU ops in a blocked layout of 8 channels (NCHWc) only when a tensor's channel count is a multiple of the
 * block; MTCNN's P-Net (10 channels) and R-Net (28) fall back to plain NCHW there, with a reorder of the tensor
 * each way. A zero filter gives a zero channel, PReLU and pooling keep it zero, and the next convolution gives it
 * zero weights, so the function is unchanged.
 */
import type { PreluMatch } from './prelu.js';
import type { TfliteModel } from './tflite.js';

/** onnxruntime's NCHWc block is 8 floats on AVX2 and 16 on AVX-512; MTCNN's 10 and 28 channels pad to 16 and 32, multiples of both. */
export const CHANNEL_BLOCK = 8;

/**
 * CONV_2D operators whose output may be widened, with the padded channel count: those whose output reaches only
 * PReLUs, max/average pools and (non-depthwise) CONV_2D inputs before any other use.
 */
export function channelPadding(model: TfliteModel, prelus: readonly PreluMatch[], block = CHANNEL_BLOCK): Map<number, number> {
  const users = new Map<number, number[]>();
  for (const op of model.operators) for (const i of op.inputs) if (i >= 0) users.set(i, [...(users.get(i) ?? []), op.index]);
  const outputs = new Set(model.outputs);
  const preluOf = new Map<number, PreluMatch>();
  for (const p of prelus) for (const k of p.ops) preluOf.set(k, p);

  /** Whether tensor `t` (a conv output, or one derived from it channel by channel) may carry zero channels. */
  const safe = (t: number): boolean => {
    if (outputs.has(t)) return false;
    const us = users.get(t) ?? [];
    if (!us.length) return false;
    const p = preluOf.get(us[0]!);
    if (p) {
      // Every use of t must be inside this one PReLU (of t), which then continues from its ADD's output.
      if (p.x !== t || !us.every((u) => preluOf.get(u) === p)) return false;
      return safe(model.operators[p.at]!.outputs[0]!);
    }
    return us.every((u) => {
      const op = model.operators[u]!;
      if (op.op === 'CONV_2D') return op.inputs[0] === t;
      if ((op.op === 'MAX_POOL_2D' || op.op === 'AVERAGE_POOL_2D') && (op.options.activation ?? 'NONE') === 'NONE') return safe(op.outputs[0]!);
      return false;
    });
  };

  const pad = new Map<number, number>();
  for (const op of model.operators) {
    if (op.op !== 'CONV_2D') continue;
    const o = model.tensors[op.inputs[1]!]!.shape[0]!;
    // The activation must keep a zero channel zero.
    if (o % block === 0 || !['NONE', 'RELU', 'RELU6'].includes(op.options.activation ?? 'NONE')) continue;
    if (safe(op.outputs[0]!)) pad.set(op.index, Math.ceil(o / block) * block);
  }
  return pad;
}
