/**
 * Five-point face alignment: a least-squares similarity transform from detected landmarks to the ArcFace
 * template, and bilinear affine warping. Pixel coordinates follow cv2.warpAffine: pixel (u, v) is the point (u, v).
 */
import { FacegateError } from '../util/errors.js';
import { checkDst, checkImage } from './image.js';
import type { Point, RgbImage } from './types.js';

/** ArcFace landmark template for a 112x112 crop (insightface), in the order of Detection.landmarks. */
export const ARCFACE_TEMPLATE_112: readonly Point[] = Object.freeze([
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
] as Point[]);

/** The template scaled to a `size`x`size` crop. */
export function arcfaceTemplate(size = 112): Point[] {
  const s = size / 112;
  return ARCFACE_TEMPLATE_112.map(([x, y]) => [x * s, y * s] as Point);
}

/** 2x3 affine matrix [a, b, c, d, e, f]: x' = a x + b y + c, y' = d x + e y + f. */
export type Affine = [number, number, number, number, number, number];

/**
 * Least-squares similarity (rotation, uniform scale, translation) mapping `src` onto `dst`.
 * This is Umeyama's estimate restricted to proper rotations (the reflection guard): in 2-D it has the
 * closed form a = sum(x.y)/sum|x|^2, b = sum(x cross y)/sum|x|^2 on centred points, with the matrix
 * [[a, -b], [b, a]], which can never be a reflection.
 */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  if (n < 2 || dst.length !== n) {
    throw new FacegateError('bad_landmarks', `Similarity fit needs two equal lists of at least 2 points, got ${n} and ${dst.length}.`);
  }
  let sx = 0,
    sy = 0,
    dx = 0,
    dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i]![0];
    sy += src[i]![1];
    dx += dst[i]![0];
    dy += dst[i]![1];
  }
  sx /= n;
  sy /= n;
  dx /= n;
  dy /= n;
  let dot = 0,
    cross = 0,
    norm = 0;
  for (let i = 0; i < n; i++) {
    const px = src[i]![0] - sx,
      py = src[i]![1] - sy;
    const qx = dst[i]![0] - dx,
      qy = dst[i]![1] - dy;
    dot += px * qx + py * qy;
    cross += px * qy - py * qx;
    norm += px * px + py * py;
  }
  if (!(norm > 0) || !Number.isFinite(dot + cross)) {
    throw new FacegateError('bad_landmarks', 'Landmarks are degenerate (all at one point or not finite).');
  }
  const a = dot / norm;
  const b = cross / norm;
  return [a, -b, dx - a * sx + b * sy, b, a, dy - b * sx - a * sy];
}

export function applyAffine(m: Affine, p: Point): Point {
  return [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
}

export function invertAffine(m: Affine): Affine {
  const det = m[0] * m[4] - m[1] * m[3];
  if (!(Math.abs(det) > 1e-12)) throw new FacegateError('bad_transform', 'Affine transform is not invertible.');
  const ia = m[4] / det,
    ib = -m[1] / det,
    id = -m[3] / det,
    ie = m[0] / det;
  return [ia, ib, -(ia * m[2] + ib * m[5]), id, ie, -(id * m[2] + ie * m[5])];
}

/**
 * Warps `src` by `m` (source → output coordinates) into an `outW`x`outH` NHWC uint8 slot of `dst` at element
 * `offset`, sampling bilinearly at the inverse-mapped point. Neighbours outside the source read as `fill`.
 */
export function warpAffineInto(src: RgbImage, m: Affine, outW: number, outH: number, dst: Uint8Array, offset = 0, fill = 0): void {
  checkImage(src);
  checkDst(dst, offset, outW * outH * 3);
  const inv = invertAffine(m);
  const { width: W, height: H, data } = src;
  const row = W * 3;
  let o = offset;
  for (let v = 0; v < outH; v++) {
    // Source point of (0, v); each step in u adds (inv[0], inv[3]).
    let x = inv[1] * v + inv[2];
    let y = inv[4] * v + inv[5];
    for (let u = 0; u < outW; u++, x += inv[0], y += inv[3], o += 3) {
      const x0 = Math.floor(x),
        y0 = Math.floor(y);
      if (x0 < -1 || y0 < -1 || x0 >= W || y0 >= H) {
        dst[o] = fill;
        dst[o + 1] = fill;
        dst[o + 2] = fill;
        continue;
      }
      const fx = x - x0,
        fy = y - y0;
      const p00 = y0 * row + x0 * 3;
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < W && y0 + 1 < H) {
        // Interior: all four neighbours exist.
        const p10 = p00 + row;
        const a0 = data[p00]! + (data[p00 + 3]! - data[p00]!) * fx;
        const b0 = data[p10]! + (data[p10 + 3]! - data[p10]!) * fx;
        const a1 = data[p00 + 1]! + (data[p00 + 4]! - data[p00 + 1]!) * fx;
        const b1 = data[p10 + 1]! + (data[p10 + 4]! - data[p10 + 1]!) * fx;
        const a2 = data[p00 + 2]! + (data[p00 + 5]! - data[p00 + 2]!) * fx;
        const b2 = data[p10 + 2]! + (data[p10 + 5]! - data[p10 + 2]!) * fx;
        dst[o] = (a0 + (b0 - a0) * fy + 0.5) | 0;
        dst[o + 1] = (a1 + (b1 - a1) * fy + 0.5) | 0;
        dst[o + 2] = (a2 + (b2 - a2) * fy + 0.5) | 0;
        continue;
      }
      const inX0 = x0 >= 0,
        inX1 = x0 + 1 < W,
        inY0 = y0 >= 0,
        inY1 = y0 + 1 < H;
      for (let c = 0; c < 3; c++) {
        const v00 = inX0 && inY0 ? data[p00 + c] : fill;
        const v01 = inX1 && inY0 ? data[p00 + 3 + c] : fill;
        const v10 = inX0 && inY1 ? data[p00 + row + c] : fill;
        const v11 = inX1 && inY1 ? data[p00 + row + 3 + c] : fill;
        const a = v00! + (v01! - v00!) * fx;
        const b = v10! + (v11! - v10!) * fx;
        dst[o + c] = (a + (b - a) * fy + 0.5) | 0;
      }
    }
  }
}

export function warpAffine(src: RgbImage, m: Affine, outW: number, outH: number, fill = 0): RgbImage {
  const data = new Uint8Array(outW * outH * 3);
  warpAffineInto(src, m, outW, outH, data, 0, fill);
  return { width: outW, height: outH, data };
}

/** The frame → crop transform that puts `landmarks` on the ArcFace template of a `size`x`size` crop. */
export function alignmentTransform(landmarks: readonly Point[], size = 112): Affine {
  if (landmarks.length !== 5) throw new FacegateError('bad_landmarks', `Alignment needs 5 landmarks, got ${landmarks.length}.`);
  return estimateSimilarity(landmarks, arcfaceTemplate(size));
}

/** Aligned `size`x`size` crop written into a batch slot; returns the transform used. */
export function alignFaceInto(src: RgbImage, landmarks: readonly Point[], size: number, dst: Uint8Array, offset = 0): Affine {
  const m = alignmentTransform(landmarks, size);
  warpAffineInto(src, m, size, size, dst, offset);
  return m;
}

/** Aligned `size`x`size` crop as an image. */
export function alignFace(src: RgbImage, landmarks: readonly Point[], size = 112): { image: RgbImage; transform: Affine } {
  const transform = alignmentTransform(landmarks, size);
  return { image: warpAffine(src, transform, size, size), transform };
}
