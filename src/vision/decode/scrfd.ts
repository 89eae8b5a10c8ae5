/**
 * insightface SCRFD (with keypoints) output decoding. Per stride 8/16/32 the model gives, for each feature-map
 * cell (row-major) and each of 2 anchors, a score (already a probability), 4 box distances (left, top, right,
 * bottom from the anchor point, in units of the stride) and 5 keypoint offsets (x, y pairs, in units of the
 * stride). The anchor point of cell (x, y) is (x * stride, y * stride). Exports name and order their outputs
 * differently, so outputs are found by shape: [.., rows, 1|4|10] with rows = cells * 2 for each stride.
 */
import type { Detection, Point } from '../types.js';
import { findByShape, gridOf, rowsOf, type DetectorPreprocess, type Outputs } from './common.js';

export const SCRFD_STRIDES = [8, 16, 32] as const;
export const SCRFD_ANCHORS_PER_CELL = 2;

/** RGB, (x - 127.5) / 128, NCHW float; sides multiples of 32. */
export const scrfdPreprocess: DetectorPreprocess = {
  channelOrder: 'rgb',
  mean: [127.5, 127.5, 127.5],
  std: [128, 128, 128],
  layout: 'nchw',
  sizeMultiple: 32,
};

/** Detections (model-input pixels) with score >= `scoreThreshold` for batch item `batch`. No NMS. */
export function decodeScrfd(outputs: Outputs, inputW: number, inputH: number, scoreThreshold: number, batch = 0): Detection[] {
  const out: Detection[] = [];
  for (const stride of SCRFD_STRIDES) {
    const { gw, gh } = gridOf(inputW, inputH, stride);
    const rows = gw * gh * SCRFD_ANCHORS_PER_CELL;
    const scoreT = findByShape(outputs, rows, 1, `SCRFD stride-${stride} score`);
    const boxT = findByShape(outputs, rows, 4, `SCRFD stride-${stride} box`);
    const kpsT = findByShape(outputs, rows, 10, `SCRFD stride-${stride} keypoint`);
    const sd = scoreT.data,
      bd = boxT.data,
      kd = kpsT.data;
    const sb = rowsOf(scoreT, batch).base;
    const bb = rowsOf(boxT, batch).base,
      kb = rowsOf(kpsT, batch).base;
    for (let r = 0; r < rows; r++) {
      const s = sd[sb + r]!;
      if (!(s >= scoreThreshold)) continue;
      const cell = (r / SCRFD_ANCHORS_PER_CELL) | 0;
      const cx = (cell % gw) * stride;
      const cy = ((cell / gw) | 0) * stride;
      const b = bb + r * 4;
      const k = kb + r * 10;
      const landmarks: Point[] = [];
      for (let i = 0; i < 5; i++) landmarks.push([cx + kd[k + i * 2]! * stride, cy + kd[k + i * 2 + 1]! * stride]);
      out.push({
        box: [cx - bd[b]! * stride, cy - bd[b + 1]! * stride, cx + bd[b + 2]! * stride, cy + bd[b + 3]! * stride],
        score: s!,
        landmarks,
      });
    }
  }
  return out;
}
