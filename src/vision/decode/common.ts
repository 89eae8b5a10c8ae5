/** Shared types and helpers for the single-stage detector decoders. */
import { FacegateError } from '../../util/errors.js';
import type { Normalisation } from '../tensor.js';

/** One model output as a flat float array and its dims (as onnxruntime reports them). */
export interface TensorOut {
  data: Float32Array;
  dims: readonly number[];
}

/** Model outputs by output name. */
export type Outputs = Readonly<Record<string, TensorOut>>;

/** What the caller must do to a frame before running the model. */
export interface DetectorPreprocess extends Normalisation {
  layout: 'nchw';
  /** Input width and height must be multiples of this (pad, e.g. with letterboxing, to reach it). */
  sizeMultiple: number;
}

/** Rows (anchors) and columns (values per anchor) of output `t` for batch item `b`, with its data offset. */
export function rowsOf(t: TensorOut, b: number): { rows: number; cols: number; base: number } {
  const d = t.dims;
  const cols = d[d.length - 1]!;
  const rows = d.length >= 2 ? d[d.length - 2] : 1;
  const batch = d.length >= 3 ? d.slice(0, d.length - 2).reduce((a, x) => a * x, 1) : 1;
  if (b < 0 || b >= batch) throw new FacegateError('bad_output', `Batch index ${b} is outside output batch ${batch}.`);
  if (t.data.length < batch * rows! * cols) {
    throw new FacegateError('bad_output', `Output data of ${t.data.length} values is shorter than its dims [${d.join(',')}].`);
  }
  return { rows: rows!, cols: cols!, base: b * rows! * cols };
}

/** Cells of a stride's feature map for an input size (ceil, as strided convolutions with padding give). */
export function gridOf(inputW: number, inputH: number, stride: number): { gw: number; gh: number } {
  return { gw: Math.ceil(inputW / stride), gh: Math.ceil(inputH / stride) };
}

/** Finds the output with `cols` values per row and `rows` rows, failing clearly when absent or ambiguous. */
export function findByShape(outputs: Outputs, rows: number, cols: number, what: string): TensorOut {
  const hits = Object.entries(outputs).filter(([, t]) => {
    const d = t.dims;
    return d[d.length - 1] === cols && d.length >= 2 && d[d.length - 2] === rows;
  });
  if (hits.length !== 1) {
    const shapes = Object.entries(outputs)
      .map(([n, t]) => `${n}[${t.dims.join(',')}]`)
      .join(' ');
    throw new FacegateError('bad_output', `Expected exactly one ${what} output of ${rows}x${cols}, found ${hits.length} among ${shapes}.`);
  }
  return hits[0]![1];
}
