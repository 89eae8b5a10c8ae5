/**
 * Face detection AP (IoU 0.5, VOC all-point interpolation) and recall by face size.
 *
 * "AP ≥ minSize" ignores ground-truth faces shorter than minSize: a detection matched to one is neither a true
 * nor a false positive, and an unmatched detection shorter than 0.875 x minSize (28 px for 32) is ignored too,
 * since it most likely hits an unlabelled or ignored small face.
 */
import { FacegateError } from '../util/errors.js';
import type { Box } from '../vision/types.js';

export interface LabelledImage {
  path: string;
  width: number;
  height: number;
  boxes: Box[];
}

export interface ScoredBox {
  box: Box;
  score: number;
}

/** labels.txt: "# <path> <width> <height>" then one "x1 y1 x2 y2" line per face; other "#" lines are comments. */
export function parseLabels(text: string): LabelledImage[] {
  const out: LabelledImage[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line) return;
    if (line.startsWith('#')) {
      const t = line.slice(1).trim().split(/\s+/);
      // A "#" line whose last two fields are not sizes is a comment.
      if (t.length !== 3 || !(Number(t[1]) > 0 && Number(t[2]) > 0)) return;
      out.push({ path: t[0]!, width: +t[1]!, height: +t[2]!, boxes: [] });
      return;
    }
    const v = line.split(/\s+/).map(Number);
    if (!out.length || v.length < 4 || v.slice(0, 4).some((x) => !Number.isFinite(x)))
      throw new FacegateError('bad_labels', `labels line ${i + 1}: expected "x1 y1 x2 y2"`);
    out[out.length - 1]!.boxes.push([v[0]!, v[1]!, v[2]!, v[3]!]);
  });
  return out;
}

export function iou(a: Box, b: Box): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const i = w * h;
  return i / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i);
}

const boxH = (b: Box) => b[3] - b[1];

export interface MatchedDetection {
  score: number;
  /** 1 true positive, 0 false positive, -1 ignored. */
  tp: 1 | 0 | -1;
  image: number;
  /** Index of the matched ground-truth face, or -1. */
  gt: number;
}

/** Greedy matching per image in descending score; a detection prefers the best-IoU counted face, then an ignored one. */
export function matchDetections(gt: Box[][], dets: ScoredBox[][], minSize = 0, iouThr = 0.5): { matched: MatchedDetection[]; counted: number } {
  const matched: MatchedDetection[] = [];
  let counted = 0;
  gt.forEach((boxes, im) => {
    const ignore = boxes.map((b) => boxH(b) < minSize);
    counted += ignore.filter((x) => !x).length;
    const used = new Array<boolean>(boxes.length).fill(false);
    const order = (dets[im] ?? []).slice().sort((a, b) => b.score - a.score);
    for (const d of order) {
      let best = -1;
      let bestIou = iouThr;
      let bestIgn = -1;
      let bestIgnIou = iouThr;
      boxes.forEach((g, k) => {
        if (used[k]) return;
        const o = iou(d.box, g);
        if (!ignore[k] && o >= bestIou) {
          best = k;
          bestIou = o;
        }
        if (ignore[k] && o >= bestIgnIou) {
          bestIgn = k;
          bestIgnIou = o;
        }
      });
      if (best >= 0) {
        used[best] = true;
        matched.push({ score: d.score, tp: 1, image: im, gt: best });
      } else if (bestIgn >= 0) {
        used[bestIgn] = true;
        matched.push({ score: d.score, tp: -1, image: im, gt: bestIgn });
      } else matched.push({ score: d.score, tp: minSize > 0 && boxH(d.box) < 0.875 * minSize ? -1 : 0, image: im, gt: -1 });
    }
  });
  return { matched, counted };
}

export interface PrPoint {
  score: number;
  precision: number;
  recall: number;
}

/** Precision/recall curve over counted detections in descending score. */
export function prCurve(matched: MatchedDetection[], counted: number): PrPoint[] {
  const m = matched.filter((x) => x.tp !== -1).sort((a, b) => b.score - a.score);
  let tp = 0;
  return m.map((x, i) => {
    tp += x.tp;
    return { score: x.score, precision: tp / (i + 1), recall: counted ? tp / counted : 0 };
  });
}

/** VOC all-point interpolated AP: area under the monotone precision envelope. */
export function averagePrecision(curve: PrPoint[]): number {
  const r = [0, ...curve.map((p) => p.recall), curve.length ? curve[curve.length - 1]!.recall : 0];
  const p = [0, ...curve.map((q) => q.precision), 0];
  for (let i = p.length - 2; i >= 0; i--) p[i] = Math.max(p[i]!, p[i + 1]!);
  let ap = 0;
  for (let i = 1; i < r.length; i++) ap += (r[i]! - r[i - 1]!) * p[i]!;
  return ap;
}

export const SIZE_BANDS = [
  ['<16', 0, 16],
  ['16-32', 16, 32],
  ['32-64', 32, 64],
  ['64-128', 64, 128],
  ['>=128', 128, Infinity],
] as const;

export interface DetectionReport {
  ap50: number;
  ap50Min32: number;
  /** Lowest score at which precision over all faces is still ≥ 0.9 (NaN if never). */
  scoreAtP90: number;
  recallBySize: Record<string, { recall: number; faces: number }>;
  faces: number;
  detections: number;
}

export function evaluateDetection(gt: Box[][], dets: ScoredBox[][], minSize = 32): DetectionReport {
  const all = matchDetections(gt, dets, 0);
  const curve = prCurve(all.matched, all.counted);
  const big = matchDetections(gt, dets, minSize);
  let at = -1;
  curve.forEach((p, i) => {
    if (p.precision >= 0.9) at = i;
  });
  const scoreAtP90 = at >= 0 ? curve[at]!.score : NaN;
  const hit = new Set(all.matched.filter((m) => m.tp === 1 && at >= 0 && m.score >= scoreAtP90).map((m) => `${m.image}:${m.gt}`));
  const recallBySize: DetectionReport['recallBySize'] = {};
  for (const [name, lo, hi] of SIZE_BANDS) {
    let n = 0;
    let r = 0;
    gt.forEach((boxes, im) =>
      boxes.forEach((b, k) => {
        const h = boxH(b);
        if (h >= lo && h < hi) {
          n += 1;
          r += hit.has(`${im}:${k}`) ? 1 : 0;
        }
      }),
    );
    recallBySize[name] = { recall: n ? r / n : NaN, faces: n };
  }
  return {
    ap50: averagePrecision(curve),
    ap50Min32: averagePrecision(prCurve(big.matched, big.counted)),
    scoreAtP90,
    recallBySize,
    faces: all.counted,
    detections: all.matched.length,
  };
}
