/** Face quality figures: sharpness of the aligned crop and a head-pose estimate from the five landmarks. */
import { FacegateError } from '../util/errors.js';
import { toGrey } from './image.js';
import { ARCFACE_TEMPLATE_112 } from './align.js';
import type { Detection, FaceQuality, Point, RgbImage } from './types.js';

/**
 * Variance of the 4-neighbour Laplacian (kernel [[0,1,0],[1,-4,1],[0,1,0]], cv2.Laplacian's ksize=1)
 * over the interior pixels of a one-byte-per-pixel grey image. 0 for images smaller than 3x3.
 */
export function laplacianVariance(grey: Uint8Array, w: number, h: number): number {
  if (grey.length < w * h) throw new FacegateError('bad_image', `Grey image of ${grey.length} bytes is smaller than ${w}x${h}.`);
  if (w < 3 || h < 3) return 0;
  let sum = 0,
    sq = 0;
  for (let y = 1; y < h - 1; y++) {
    let p = y * w + 1;
    for (let x = 1; x < w - 1; x++, p++) {
      const l = grey[p - w]! + grey[p + w]! + grey[p - 1]! + grey[p + 1]! - 4 * grey[p]!;
      sum += l;
      sq += l * l;
    }
  }
  const n = (w - 2) * (h - 2);
  const mean = sum / n;
  return sq / n - mean * mean;
}

/**
 * Sharpness of an aligned crop: Laplacian variance over its central window (eyes, nose and mouth in the ArcFace
 * framing), so hair, background and the warp's fill outside the source image do not count.
 */
export function blurScore(img: RgbImage): number {
  const grey = toGrey(img);
  const x0 = Math.round(img.width * 0.25),
    x1 = Math.round(img.width * 0.75);
  const y0 = Math.round(img.height * 0.32),
    y1 = Math.round(img.height * 0.9);
  const w = x1 - x0,
    h = y1 - y0;
  const win = new Uint8Array(w * h);
  for (let y = 0; y < h; y++) win.set(grey.subarray((y0 + y) * img.width + x0, (y0 + y) * img.width + x1), y * w);
  return laplacianVariance(win, w, h);
}

/**
 * Rough head pose in degrees from five landmarks (image-left eye, image-right eye, nose, mouth corners):
 * - roll: angle of the line from the image-left to the image-right eye (positive = clockwise on screen);
 * - yaw: sideways offset of the nose from the eye-mid → mouth-mid line, as atan(offset / (0.5 * eye distance)),
 *   i.e. assuming the nose tip stands half an eye distance in front of the face plane; positive = nose towards
 *   the image right;
 * - pitch: where the nose sits between the eye line and the mouth line compared with the ArcFace template,
 *   as atan(shift / (0.5 * eye-to-mouth distance)), i.e. nose depth half the eye-to-mouth distance; positive = nose nearer the eyes (face tilted up).
 * All are measured in the face's own (roll-free) axes. Useful for gating, not for measurement.
 */
export function estimatePose(lm: readonly Point[]): { yaw: number; pitch: number; roll: number } {
  if (lm.length !== 5) throw new FacegateError('bad_landmarks', `Pose needs 5 landmarks, got ${lm.length}.`);
  const g = faceGeometry(lm);
  const deg = 180 / Math.PI;
  if (g === null) return { yaw: 0, pitch: 0, roll: 0 };
  return {
    yaw: Math.atan(g.offset / (0.5 * g.eyeDist)) * deg,
    pitch: Math.atan((templateNoseT - g.t) / 0.5) * deg,
    roll: g.roll * deg,
  };
}

/**
 * In the face's own axes (x along the eye line, y perpendicular): t = nose height between eye line (0) and
 * mouth line (1); offset = nose distance from the eye-mid → mouth-mid line along x.
 */
function faceGeometry(lm: readonly Point[]): { t: number; offset: number; eyeDist: number; roll: number } | null {
  const [le, re, nose, lmo, rmo] = lm;
  const ex = re![0] - le![0],
    ey = re![1] - le![1];
  const eyeDist = Math.hypot(ex, ey);
  if (!(eyeDist > 0)) return null;
  const ux = ex / eyeDist,
    uy = ey / eyeDist;
  const vx = -uy,
    vy = ux;
  const emx = (le![0] + re![0]) / 2,
    emy = (le![1] + re![1]) / 2;
  const mx = (lmo![0] + rmo![0]) / 2 - emx,
    my = (lmo![1] + rmo![1]) / 2 - emy;
  const nx = nose![0] - emx,
    ny = nose![1] - emy;
  const mu = mx * ux + my * uy,
    mv = mx * vx + my * vy;
  const nu = nx * ux + ny * uy,
    nv = nx * vx + ny * vy;
  const roll = Math.atan2(ey, ex);
  if (!(mv > 0)) return null;
  const t = nv / mv;
  return { t, offset: nu - t * mu, eyeDist, roll };
}

const templateNoseT = faceGeometry(ARCFACE_TEMPLATE_112)!.t;

/** Quality figures for a detection (frame pixels) and its aligned crop. */
export function faceQuality(det: Detection, aligned: RgbImage): FaceQuality {
  const size = Math.min(det.box[2] - det.box[0], det.box[3] - det.box[1]);
  return { size, score: det.score, blur: blurScore(aligned), ...estimatePose(det.landmarks) };
}
