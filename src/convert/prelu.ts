/**
 * Finds PReLU activations that TF exported as several elementwise ops, so they become one ONNX PRelu:
 *   form "abs": relu(x) + a * (x - |x|)      == prelu(x, 2a)   (MobileFaceNet)
 *   form "neg": relu(x) + a * -relu(-x)      == prelu(x, a)    (MTCNN)
 */
import type { TfliteModel, TfliteOperator } from './tflite.js';

export interface PreluMatch {
  /** Index of the final ADD, where the PRelu is emitted. */
  at: number;
  x: number;
  /** The constant alpha tensor. */
  alpha: number;
  /** 2 for the "abs" form, 1 for the "neg" form. */
  scale: number;
  /** Operators folded into the PRelu (including the ADD). */
  ops: number[];
}

export function findPrelus(model: TfliteModel): PreluMatch[] {
  const producer = new Map<number, TfliteOperator>();
  const uses = new Map<number, number>();
  for (const op of model.operators) {
    for (const o of op.outputs) producer.set(o, op);
    for (const i of op.inputs) if (i >= 0) uses.set(i, (uses.get(i) ?? 0) + 1);
  }
  for (const o of model.outputs) uses.set(o, (uses.get(o) ?? 0) + 1);
  const isConst = (t: number) => model.tensors[t]?.data !== undefined;
  // The producer of tensor t when it is `op` with `n` inputs and t feeds nothing else.
  const only = (t: number, op: string, n: number): TfliteOperator | undefined => {
    const p = producer.get(t);
    return p && p.op === op && p.inputs.length === n && uses.get(t) === 1 && p.options.activation !== 'RELU' ? p : undefined;
  };

  const matches: PreluMatch[] = [];
  for (const add of model.operators) {
    if (add.op !== 'ADD' || add.inputs.length !== 2 || (add.options.activation ?? 'NONE') !== 'NONE') continue;
    for (const [ri, mi] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const relu = only(add.inputs[ri]!, 'RELU', 1);
      const mul = only(add.inputs[mi]!, 'MUL', 2);
      if (!relu || !mul || (mul.options.activation ?? 'NONE') !== 'NONE') continue;
      const x = relu.inputs[0]!;
      const ai = isConst(mul.inputs[0]!) ? 0 : isConst(mul.inputs[1]!) ? 1 : -1;
      if (ai < 0) continue;
      const alpha = mul.inputs[ai]!;
      const s = mul.inputs[1 - ai]!;
      // Form "abs": s = x - |x|.
      const sub = only(s, 'SUB', 2);
      if (sub && sub.inputs[0] === x && (sub.options.activation ?? 'NONE') === 'NONE') {
        const abs = only(sub.inputs[1]!, 'ABS', 1);
        if (abs && abs.inputs[0] === x) {
          matches.push({ at: add.index, x, alpha, scale: 2, ops: [relu.index, abs.index, sub.index, mul.index, add.index] });
          break;
        }
      }
      // Form "neg": s = -relu(-x).
      const neg2 = only(s, 'NEG', 1);
      const relu2 = neg2 && only(neg2.inputs[0]!, 'RELU', 1);
      const neg1 = relu2 && only(relu2.inputs[0]!, 'NEG', 1);
      if (neg2 && relu2 && neg1 && neg1.inputs[0] === x) {
        matches.push({ at: add.index, x, alpha, scale: 1, ops: [relu.index, neg1.index, relu2.index, neg2.index, mul.index, add.index] });
        break;
      }
    }
  }
  return matches;
}
