/** Runs the LFW and detection evaluations through a FaceEngine (I/O side; the maths live in lfw.ts / detection.ts). */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FaceEngine } from '../engine/types.js';
import { decodeImage } from '../ingest/still.js';
import { alignFace, ARCFACE_TEMPLATE_112 } from '../vision/align.js';
import type { Detection, Point, RgbImage } from '../vision/types.js';
import { FacegateError } from '../util/errors.js';
import { bestThreshold, cosine, kFoldAccuracy, parsePairs, tarAtFar } from './lfw.js';
import { evaluateDetection, parseLabels, type DetectionReport } from './detection.js';

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    throw new FacegateError('not_found', `${what} ${file} not found`);
  }
}

/** The detection whose box centre is nearest the image centre. */
export function closestToCentre(dets: Detection[], w: number, h: number): Detection | null {
  let best: Detection | null = null;
  let bd = Infinity;
  for (const d of dets) {
    const dd = ((d.box[0] + d.box[2]) / 2 - w / 2) ** 2 + ((d.box[1] + d.box[3]) / 2 - h / 2) ** 2;
    if (dd < bd) {
      bd = dd;
      best = d;
    }
  }
  return best;
}

/** Fallback when no face is found: template landmarks on a centred square half the short side. */
export function centredDefault(w: number, h: number): Detection {
  const s = Math.min(w, h) * 0.5;
  const x0 = (w - s) / 2;
  const y0 = (h - s) / 2;
  const landmarks = ARCFACE_TEMPLATE_112.map(([x, y]) => [x0 + (x * s) / 112, y0 + (y * s) / 112] as Point);
  return { box: [x0, y0, x0 + s, y0 + s], score: 0, landmarks };
}

function oneFold(s: number[], l: boolean[]) {
  const b = bestThreshold(s, l);
  return { accuracy: b.accuracy, std: 0, foldAccuracies: [b.accuracy], thresholds: [b.threshold] };
}

/**
 * Embeds images (paths relative to dataDir) through the full pipeline: the face nearest the image centre, or a
 * centred default box when none is found (counted in noFace).
 */
export async function embedImages(
  engine: FaceEngine,
  dataDir: string,
  files: readonly string[],
  opts: { batch?: number; progress?: (done: number, total: number) => void } = {},
): Promise<{ emb: Map<string, Float32Array>; noFace: number }> {
  const emb = new Map<string, Float32Array>();
  let noFace = 0;
  const B = opts.batch ?? 16;
  for (let i = 0; i < files.length; i += B) {
    const names = files.slice(i, i + B);
    const imgs: RgbImage[] = await Promise.all(names.map((f) => decodeImage(path.join(dataDir, f))));
    const dets = await engine.detect(imgs);
    const crops = imgs.map((img, k) => {
      let d = closestToCentre(dets[k]!, img.width, img.height);
      if (!d) {
        noFace += 1;
        d = centredDefault(img.width, img.height);
      }
      return alignFace(img, d.landmarks, 112).image;
    });
    const e = await engine.embedAligned(crops);
    names.forEach((n, k) => emb.set(n, e[k]!));
    opts.progress?.(Math.min(i + B, files.length), files.length);
  }
  return { emb, noFace };
}

export interface LfwReport {
  accuracy: number;
  std: number;
  foldAccuracies: number[];
  tarAtFar1e3: number;
  /** Mean of the per-fold best-accuracy thresholds. */
  threshold: number;
  /** Cosine threshold that gives FAR 1e-3 over all pairs. */
  thresholdAtFar1e3: number;
  pairs: number;
  images: number;
  noFace: number;
  seconds: number;
  detectorId: string;
  embedderId: string;
}

/** Embeds every distinct image once (largest-to-centre face, full pipeline), then scores the pairs. */
export async function evalLfw(
  engine: FaceEngine,
  dataDir: string,
  opts: { limitFolds?: number; batch?: number; progress?: (done: number, total: number) => void } = {},
): Promise<LfwReport> {
  const t0 = Date.now();
  let folds = parsePairs(readText(path.join(dataDir, 'pairs.txt'), 'LFW pairs file'));
  if (opts.limitFolds) folds = folds.slice(0, opts.limitFolds);
  const files = [...new Set(folds.flat().flatMap((p) => [p.a, p.b]))];
  const { emb, noFace } = await embedImages(engine, dataDir, files, opts);
  const scores = folds.map((f) => f.map((p) => cosine(emb.get(p.a)!, emb.get(p.b)!)));
  const same = folds.map((f) => f.map((p) => p.same));
  // One fold only: its own best threshold (optimistic; use >= 2 folds for a fair figure).
  const k = folds.length > 1 ? kFoldAccuracy(scores, same) : oneFold(scores[0]!, same[0]!);
  const far = tarAtFar(scores.flat(), same.flat(), 1e-3);
  return {
    accuracy: k?.accuracy ?? NaN,
    std: k?.std ?? NaN,
    foldAccuracies: k?.foldAccuracies ?? [],
    tarAtFar1e3: far.tar,
    threshold: k ? k.thresholds.reduce((a, b) => a + b, 0) / k.thresholds.length : NaN,
    thresholdAtFar1e3: far.threshold,
    pairs: scores.flat().length,
    images: files.length,
    noFace,
    seconds: (Date.now() - t0) / 1000,
    detectorId: engine.detectorId,
    embedderId: engine.embedderId,
  };
}

export interface DetectionEvalReport extends DetectionReport {
  images: number;
  seconds: number;
  msPerImage: number;
  detectorId: string;
}

/** Detection AP on a labels.txt set (paths relative to its folder). */
export async function evalDetection(
  engine: Pick<FaceEngine, 'detect' | 'detectorId'>,
  dataDir: string,
  opts: { limit?: number; batch?: number; progress?: (done: number, total: number) => void } = {},
): Promise<DetectionEvalReport> {
  let items = parseLabels(readText(path.join(dataDir, 'labels.txt'), 'detection labels file'));
  if (opts.limit) items = items.slice(0, opts.limit);
  const dets = [];
  let detectMs = 0;
  const t0 = Date.now();
  // Image paths are relative to the labels folder or to its images/ subfolder.
  const imageRoot = items.length && !existsSync(path.join(dataDir, items[0]!.path)) ? path.join(dataDir, 'images') : dataDir;
  // A few images per detect call, so an engine with several workers detects them side by side.
  const batch = Math.max(1, opts.batch ?? 4);
  for (let i = 0; i < items.length; i += batch) {
    const part = items.slice(i, i + batch);
    const imgs = await Promise.all(part.map((it) => decodeImage(path.join(imageRoot, it.path))));
    const t = performance.now();
    const found = await engine.detect(imgs);
    detectMs += performance.now() - t;
    for (const d of found) dets.push(d.map((x) => ({ box: x.box, score: x.score })));
    opts.progress?.(i + part.length, items.length);
  }
  const r = evaluateDetection(
    items.map((x) => x.boxes),
    dets,
    32,
  );
  return { ...r, images: items.length, seconds: (Date.now() - t0) / 1000, msPerImage: detectMs / Math.max(1, items.length), detectorId: engine.detectorId };
}
