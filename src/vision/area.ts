/**
 * Area-averaging downscale (like cv2 INTER_AREA, with footprints rounded to whole pixels) through a summed-area
 * table, so every output pixel costs O(1) however strong the reduction. Build the table once per frame and cut
 * any number of pyramid levels or tiles from it.
 */
import { FacegateError } from '../util/errors.js';
import { checkDst, checkImage, type Rect } from './image.js';
import type { RgbImage } from './types.js';

/** Per-channel sums of all pixels above and left of (x, y): entry ((y * (W + 1)) + x) * 3 + c. */
export interface SummedArea {
  width: number;
  height: number;
  sums: Uint32Array;
}

/** Builds (or refills `reuse`) the summed-area table of an image of at most 16.8 million pixels. */
export function summedArea(src: RgbImage, reuse?: SummedArea): SummedArea {
  checkImage(src);
  const { width: W, height: H, data } = src;
  if (W * H > 16_843_009) throw new FacegateError('BAD_IMAGE', `Image ${W}x${H} is too large for area resizing.`);
  const n = (W + 1) * (H + 1) * 3;
  const sums = reuse && reuse.sums.length >= n ? reuse.sums : new Uint32Array(n);
  const stride = (W + 1) * 3;
  sums.fill(0, 0, stride);
  for (let y = 0; y < H; y++) {
    let r = 0, g = 0, b = 0;
    const up = y * stride;
    const cur = up + stride;
    sums[cur] = 0;
    sums[cur + 1] = 0;
    sums[cur + 2] = 0;
    for (let x = 0, p = y * W * 3; x < W; x++, p += 3) {
      r += data[p];
      g += data[p + 1];
      b += data[p + 2];
      const o = cur + (x + 1) * 3;
      sums[o] = sums[up + (x + 1) * 3] + r;
      sums[o + 1] = sums[up + (x + 1) * 3 + 1] + g;
      sums[o + 2] = sums[up + (x + 1) * 3 + 2] + b;
    }
  }
  return { width: W, height: H, sums };
}

/** Whole-pixel footprints [lo[i], hi[i]) of each output index; lo = -1 where the footprint is outside. */
function footprints(start: number, step: number, n: number, size: number) {
  const lo = new Int32Array(n);
  const hi = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const a = Math.round(start + i * step);
    const b = Math.max(a + 1, Math.round(start + (i + 1) * step));
    const centre = start + (i + 0.5) * step;
    if (centre < 0 || centre >= size) {
      lo[i] = -1;
      continue;
    }
    lo[i] = Math.max(0, Math.min(a, size - 1));
    hi[i] = Math.min(size, Math.max(b, lo[i] + 1));
  }
  return { lo, hi };
}

/**
 * Mean of each output pixel's footprint in `rect`, written NHWC uint8 into `dst` at element `offset`.
 * Outputs whose footprint centre lies outside the image get `fill`. Meant for reductions (rect larger than
 * the output); for enlargement use bilinear `cropResizeInto`.
 */
export function areaResizeInto(sat: SummedArea, rect: Rect, outW: number, outH: number, dst: Uint8Array, offset = 0, fill = 0): void {
  checkDst(dst, offset, outW * outH * 3);
  if (!(rect.w > 0 && rect.h > 0)) throw new FacegateError('BAD_BOX', `Resize region ${rect.w}x${rect.h} is empty.`);
  const xs = footprints(rect.x, rect.w / outW, outW, sat.width);
  const ys = footprints(rect.y, rect.h / outH, outH, sat.height);
  const s = sat.sums;
  const stride = (sat.width + 1) * 3;
  let o = offset;
  for (let j = 0; j < outH; j++) {
    if (ys.lo[j] < 0) {
      dst.fill(fill, o, o + outW * 3);
      o += outW * 3;
      continue;
    }
    const top = ys.lo[j] * stride;
    const bot = ys.hi[j] * stride;
    const rows = ys.hi[j] - ys.lo[j];
    for (let i = 0; i < outW; i++, o += 3) {
      if (xs.lo[i] < 0) {
        dst[o] = fill;
        dst[o + 1] = fill;
        dst[o + 2] = fill;
        continue;
      }
      const l = xs.lo[i] * 3;
      const r = xs.hi[i] * 3;
      const inv = 1 / (rows * (xs.hi[i] - xs.lo[i]));
      dst[o] = ((s[bot + r] - s[bot + l] - s[top + r] + s[top + l]) * inv + 0.5) | 0;
      dst[o + 1] = ((s[bot + r + 1] - s[bot + l + 1] - s[top + r + 1] + s[top + l + 1]) * inv + 0.5) | 0;
      dst[o + 2] = ((s[bot + r + 2] - s[bot + l + 2] - s[top + r + 2] + s[top + l + 2]) * inv + 0.5) | 0;
    }
  }
}

/** Area-averaging resize of the whole image to `w`x`h` (from a table, or building one). */
export function resizeArea(src: RgbImage | SummedArea, w: number, h: number): RgbImage {
  const sat = 'sums' in src ? src : summedArea(src);
  const data = new Uint8Array(w * h * 3);
  areaResizeInto(sat, { x: 0, y: 0, w: sat.width, h: sat.height }, w, h, data, 0);
  return { width: w, height: h, data };
}
