/**
 * RetinaFace (MobileNet-0.25, Pytorch_Retinaface-style head) output decoding against SSD prior boxes:
 * min sizes [[16, 32], [64, 128], [256, 512]] at steps [8, 16, 32], variances [0.1, 0.2]. Priors run over
 * levels, then feature-map cells (row-major), then the level's min sizes. Outputs are found by shape:
 * [.., P, 4] box deltas, [.., P, 2] class scores (background, face: probabilities in the reference export,
 * whose graph ends in a softmax; pass scores = 'logits' for an export without it),
 * [.., P, 10] landmark deltas (the libfacedetection.train export names this one "iou").
 */
import type { Detection, Point } from '../types.js';
import { findByShape, gridOf, rowsOf, type DetectorPreprocess, type Outputs } from './common.js';

export const RETINAFACE_MIN_SIZES = [
  [16, 32],
  [64, 128],
  [256, 512],
] as const;
export const RETINAFACE_STEPS = [8, 16, 32] as const;
export const RETINAFACE_VARIANCES = [0.1, 0.2] as const;

/** BGR minus mean (104, 117, 123), no scaling, NCHW float; sides multiples of 32. */
export const retinafacePreprocess: DetectorPreprocess = {
  channelOrder: 'bgr',
  mean: [104, 117, 123],
  std: [1, 1, 1],
  layout: 'nchw',
  sizeMultiple: 32,
};

/** Prior boxes as flat [cx, cy, w, h] in model-input pixels. Cache per input size: it does not change. */
export function retinafacePriors(inputW: number, inputH: number): Float32Array {
  let n = 0;
  RETINAFACE_STEPS.forEach((step, l) => {
    const { gw, gh } = gridOf(inputW, inputH, step);
    n += gw * gh * RETINAFACE_MIN_SIZES[l]!.length;
  });
  const p = new Float32Array(n * 4);
  let o = 0;
  RETINAFACE_STEPS.forEach((step, l) => {
    const { gw, gh } = gridOf(inputW, inputH, step);
    for (let y = 0; y < gh; y++) {
      for (let x = 0; x < gw; x++) {
        for (const m of RETINAFACE_MIN_SIZES[l]!) {
          p[o++] = (x + 0.5) * step;
          p[o++] = (y + 0.5) * step;
          p[o++] = m;
          p[o++] = m;
        }
      }
    }
  });
  return p;
}

const priorCache = new Map<string, Float32Array>();

function cachedPriors(w: number, h: number): Float32Array {
  const key = `${w}x${h}`;
  let p = priorCache.get(key);
  if (!p) {
    if (priorCache.size > 16) priorCache.clear();
    p = retinafacePriors(w, h);
    priorCache.set(key, p);
  }
  return p;
}

/** Detections (model-input pixels) with face probability >= `scoreThreshold` for batch item `batch`. No NMS. */
export function decodeRetinaface(
  outputs: Outputs,
  inputW: number,
  inputH: number,
  scoreThreshold: number,
  batch = 0,
  scores: 'probabilities' | 'logits' = 'probabilities',
): Detection[] {
  const logits = scores === 'logits';
  const priors = cachedPriors(inputW, inputH);
  const P = priors.length / 4;
  const loc = findByShape(outputs, P, 4, 'RetinaFace box');
  const conf = findByShape(outputs, P, 2, 'RetinaFace score');
  const lmk = findByShape(outputs, P, 10, 'RetinaFace landmark');
  const lb = rowsOf(loc, batch).base,
    cb = rowsOf(conf, batch).base,
    kb = rowsOf(lmk, batch).base;
  const ld = loc.data,
    cd = conf.data,
    kd = lmk.data;
  const [v0, v1] = RETINAFACE_VARIANCES;
  const out: Detection[] = [];
  for (let i = 0; i < P; i++) {
    const fg = cd[cb + i * 2 + 1]!;
    const s = logits ? 1 / (1 + Math.exp(cd[cb + i * 2]! - fg)) : fg;
    if (!(s! >= scoreThreshold)) continue;
    const pcx = priors[i * 4]!,
      pcy = priors[i * 4 + 1]!,
      pw = priors[i * 4 + 2]!,
      ph = priors[i * 4 + 3]!;
    const b = lb + i * 4;
    const cx = pcx + ld[b]! * v0 * pw;
    const cy = pcy + ld[b + 1]! * v0 * ph;
    const w = pw * Math.exp(ld[b + 2]! * v1);
    const h = ph * Math.exp(ld[b + 3]! * v1);
    const k = kb + i * 10;
    const landmarks: Point[] = [];
    for (let j = 0; j < 5; j++) landmarks.push([pcx + kd[k + j * 2]! * v0 * pw, pcy + kd[k + j * 2 + 1]! * v0 * ph]);
    out.push({ box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], score: s!, landmarks });
  }
  return out;
}
