/** Box maths for the tracker. */
import type { Box } from '../vision/types.js';

export function iou(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  const union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter;
  return union > 0 ? inter / union : 0;
}

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
