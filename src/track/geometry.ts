/** Box maths for the tracker (IoU is the detector's, from vision/nms). */
import type { Box } from '../vision/types.js';

export { iou } from '../vision/nms.js';

/** Distance between box centres divided by the larger box side of a: 0 means same centre. */
export function centreDistance(a: Box, b: Box): number {
  const dx = (a[0] + a[2]) / 2 - (b[0] + b[2]) / 2;
  const dy = (a[1] + a[3]) / 2 - (b[1] + b[3]) / 2;
  const side = Math.max(a[2] - a[0], a[3] - a[1], 1);
  return Math.hypot(dx, dy) / side;
}

/** Ratio of the larger to the smaller box area (≥ 1). */
export function sizeRatio(a: Box, b: Box): number {
  const x = Math.max((a[2] - a[0]) * (a[3] - a[1]), 1);
  const y = Math.max((b[2] - b[0]) * (b[3] - b[1]), 1);
  return Math.max(x, y) / Math.min(x, y);
}
