/**
 * Box overlap and non-maximum suppression. Boxes are continuous: area = (x2 - x1) * (y2 - y1).
 * Overlap modes: 'union' = intersection / union (IoU); 'min' = intersection / smaller area (MTCNN's "Min").
 */
import type { Box, Detection, Point } from './types.js';

export type OverlapMode = 'union' | 'min';

export function area(b: Box): number {
  return Math.max(0, b[2] - b[0]) * Math.max(0, b[3] - b[1]);
}

export function overlap(a: Box, b: Box, mode: OverlapMode = 'union'): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const aa = area(a);
  const ab = area(b);
  const den = mode === 'min' ? Math.min(aa, ab) : aa + ab - inter;
  return den > 0 ? inter / den : 0;
}

export function iou(a: Box, b: Box): number {
  return overlap(a, b, 'union');
}

/** Indices of `dets` by descending score (stable). */
function order(dets: readonly Detection[]): Int32Array {
  const idx = Int32Array.from(dets.keys());
  return idx.sort((i, j) => dets[j]!.score - dets[i]!.score || i - j);
}

/** Flat copy of boxes and their areas, so the O(n^2) loop reads typed arrays only. */
function flatBoxes(dets: readonly Detection[]) {
  const n = dets.length;
  const b = new Float64Array(n * 4);
  const ar = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const d = dets[i]!.box;
    b[i * 4] = d[0];
    b[i * 4 + 1] = d[1];
    b[i * 4 + 2] = d[2];
    b[i * 4 + 3] = d[3];
    ar[i] = area(d);
  }
  return { b, ar };
}

function flatOverlap(b: Float64Array, ar: Float64Array, i: number, j: number, minMode: boolean): number {
  const iw = Math.min(b[i * 4 + 2]!, b[j * 4 + 2]!) - Math.max(b[i * 4]!, b[j * 4]!);
  if (iw <= 0) return 0;
  const ih = Math.min(b[i * 4 + 3]!, b[j * 4 + 3]!) - Math.max(b[i * 4 + 1]!, b[j * 4 + 1]!);
  if (ih <= 0) return 0;
  const inter = iw * ih;
  const den = minMode ? Math.min(ar[i]!, ar[j]!) : ar[i]! + ar[j]! - inter;
  return den > 0 ? inter / den : 0;
}

/**
 * Greedy hard NMS: keeps the best-scoring detection, drops every other whose overlap with it is >= `threshold`,
 * repeats. Returns kept detections (the same objects) by descending score.
 */
export function nms(dets: readonly Detection[], threshold: number, mode: OverlapMode = 'union'): Detection[] {
  const n = dets.length;
  const idx = order(dets);
  const { b, ar } = flatBoxes(dets);
  const gone = new Uint8Array(n);
  const minMode = mode === 'min';
  const out: Detection[] = [];
  for (let a = 0; a < n; a++) {
    const i = idx[a]!;
    if (gone[i]) continue;
    out.push(dets[i]!);
    for (let c = a + 1; c < n; c++) {
      const j = idx[c]!;
      if (!gone[j] && flatOverlap(b, ar, i, j, minMode) >= threshold) gone[j] = 1;
    }
  }
  return out;
}

/**
 * Weighted NMS: each cluster (the best remaining detection and all remaining ones overlapping it by >=
 * `threshold`) becomes one detection whose box and landmarks are the score-weighted means of the cluster's,
 * with the cluster's best score. Landmarks are averaged only over members with the same landmark count as
 * the best one. Returns new objects by descending score.
 */
export function weightedNms(dets: readonly Detection[], threshold: number, mode: OverlapMode = 'union'): Detection[] {
  const n = dets.length;
  const idx = order(dets);
  const { b, ar } = flatBoxes(dets);
  const gone = new Uint8Array(n);
  const minMode = mode === 'min';
  const out: Detection[] = [];
  for (let a = 0; a < n; a++) {
    const i = idx[a]!;
    if (gone[i]) continue;
    gone[i] = 1;
    const best = dets[i]!;
    const nl = best.landmarks.length;
    const lm = new Float64Array(nl * 2);
    let x1 = 0,
      y1 = 0,
      x2 = 0,
      y2 = 0,
      ws = 0,
      wl = 0;
    const add = (d: Detection) => {
      const w = d.score;
      x1 += d.box[0] * w;
      y1 += d.box[1] * w;
      x2 += d.box[2] * w;
      y2 += d.box[3] * w;
      ws += w;
      if (d.landmarks.length === nl) {
        for (let k = 0; k < nl; k++) {
          lm[k * 2]! += d.landmarks[k]![0] * w;
          lm[k * 2 + 1]! += d.landmarks[k]![1] * w;
        }
        wl += w;
      }
    };
    add(best);
    let members = 1;
    for (let c = a + 1; c < n; c++) {
      const j = idx[c]!;
      if (!gone[j] && flatOverlap(b, ar, i, j, minMode) >= threshold) {
        gone[j] = 1;
        members++;
        add(dets[j]!);
      }
    }
    if (members === 1 || !(ws > 0)) {
      // A lone detection (or all weights zero): a copy of the best one.
      out.push({ box: [...best.box], score: best.score, landmarks: best.landmarks.map((p) => [p[0], p[1]] as Point) });
      continue;
    }
    const landmarks: Point[] = [];
    for (let k = 0; k < nl; k++) landmarks.push([lm[k * 2]! / wl, lm[k * 2 + 1]! / wl]);
    out.push({ box: [x1 / ws, y1 / ws, x2 / ws, y2 / ws], score: best.score, landmarks });
  }
  return out;
}
