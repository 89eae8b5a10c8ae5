/**
 * Pixel operations on interleaved RGB uint8 images. Resampling uses pixel-centre alignment
 * (output pixel i samples source coordinate (i + 0.5) * scale - 0.5, as cv2.resize does).
 */
import { FacegateError } from '../util/errors.js';
import type { RgbImage } from './types.js';

/** A source region in frame pixels (continuous coordinates: pixel i covers [i, i+1)). */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

export function checkImage(img: RgbImage): void {
  if (!(img.width > 0 && img.height > 0) || !Number.isInteger(img.width) || !Number.isInteger(img.height)) {
    throw new FacegateError('bad_image', `Image size ${img.width}x${img.height} is not a positive integer size.`);
  }
  if (img.data.length < img.width * img.height * 3) {
    throw new FacegateError('bad_image', `Image data holds ${img.data.length} bytes, ${img.width}x${img.height} RGB needs ${img.width * img.height * 3}.`);
  }
}

export function checkDst(dst: Uint8Array | Float32Array, offset: number, need: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + need > dst.length) {
    throw new FacegateError('bad_buffer', `Destination buffer of ${dst.length} elements cannot hold ${need} at offset ${offset}.`);
  }
}

/**
 * Per-axis sampling table: for output index i, source index lo[i], hi[i] and weight wt[i] of hi.
 * A sample more than half a pixel outside the source gets lo = -1 (filled).
 */
function axisTable(start: number, step: number, n: number, size: number) {
  const lo = new Int32Array(n);
  const hi = new Int32Array(n);
  const wt = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const s = start + (i + 0.5) * step - 0.5;
    if (s < -0.5 || s > size - 0.5) {
      lo[i] = -1;
      continue;
    }
    const f = Math.floor(s);
    const a = f < 0 ? 0 : f;
    const b = f + 1 > size - 1 ? size - 1 : f + 1;
    lo[i] = a;
    hi[i] = b;
    wt[i] = f < 0 ? 0 : s - f;
  }
  return { lo, hi, wt };
}

/**
 * Bilinear crop-and-resize of `rect` (may extend past the image) into `outW`x`outH`, written NHWC uint8
 * into `dst` starting at element `offset`. Samples outside the image get `fill`.
 */
export function cropResizeInto(src: RgbImage, rect: Rect, outW: number, outH: number, dst: Uint8Array, offset = 0, fill = 0): void {
  checkImage(src);
  checkDst(dst, offset, outW * outH * 3);
  if (!(rect.w > 0 && rect.h > 0)) {
    throw new FacegateError('bad_box', `Crop region ${rect.w}x${rect.h} is empty.`);
  }
  const { width: W, height: H, data } = src;
  const xs = axisTable(rect.x, rect.w / outW, outW, W);
  const ys = axisTable(rect.y, rect.h / outH, outH, H);
  const row = W * 3;
  let o = offset;
  for (let j = 0; j < outH; j++) {
    const y0 = ys.lo[j]!;
    if (y0 < 0) {
      dst.fill(fill, o, o + outW * 3);
      o += outW * 3;
      continue;
    }
    const r0 = y0 * row;
    const r1 = ys.hi[j]! * row;
    const wy = ys.wt[j]!;
    for (let i = 0; i < outW; i++) {
      const x0 = xs.lo[i]!;
      if (x0 < 0) {
        dst[o] = fill;
        dst[o + 1] = fill;
        dst[o + 2] = fill;
        o += 3;
        continue;
      }
      const c0 = x0 * 3;
      const c1 = xs.hi[i]! * 3;
      const wx = xs.wt[i]!;
      const a0 = data[r0 + c0]! + (data[r0 + c1]! - data[r0 + c0]!) * wx;
      const b0 = data[r1 + c0]! + (data[r1 + c1]! - data[r1 + c0]!) * wx;
      const a1 = data[r0 + c0 + 1]! + (data[r0 + c1 + 1]! - data[r0 + c0 + 1]!) * wx;
      const b1 = data[r1 + c0 + 1]! + (data[r1 + c1 + 1]! - data[r1 + c0 + 1]!) * wx;
      const a2 = data[r0 + c0 + 2]! + (data[r0 + c1 + 2]! - data[r0 + c0 + 2]!) * wx;
      const b2 = data[r1 + c0 + 2]! + (data[r1 + c1 + 2]! - data[r1 + c0 + 2]!) * wx;
      dst[o] = (a0 + (b0 - a0) * wy + 0.5) | 0;
      dst[o + 1] = (a1 + (b1 - a1) * wy + 0.5) | 0;
      dst[o + 2] = (a2 + (b2 - a2) * wy + 0.5) | 0;
      o += 3;
    }
  }
}

/** Bilinear resize of the whole image. */
export function resizeBilinear(src: RgbImage, w: number, h: number): RgbImage {
  if (!(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0)) {
    throw new FacegateError('bad_size', `Resize target ${w}x${h} is not a positive integer size.`);
  }
  const data = new Uint8Array(w * h * 3);
  cropResizeInto(src, { x: 0, y: 0, w: src.width, h: src.height }, w, h, data, 0);
  return { width: w, height: h, data };
}

/** Mirror image left-right. */
export function flipHorizontal(src: RgbImage): RgbImage {
  checkImage(src);
  const out = new Uint8Array(src.width * src.height * 3);
  flipHorizontalInto(src.data, 0, src.width, src.height, out, 0);
  return { width: src.width, height: src.height, data: out };
}

/**
 * Mirrors one `w`x`h` NHWC uint8 image from `src` at `srcOffset` into `dst` at `dstOffset` (e.g. a batch slot
 * for flip test-time augmentation). Source and destination must not overlap.
 */
export function flipHorizontalInto(src: Uint8Array, srcOffset: number, w: number, h: number, dst: Uint8Array, dstOffset: number): void {
  checkDst(src, srcOffset, w * h * 3);
  checkDst(dst, dstOffset, w * h * 3);
  for (let y = 0; y < h; y++) {
    const r = y * w * 3;
    for (let x = 0; x < w; x++) {
      const s = srcOffset + r + x * 3;
      const d = dstOffset + r + (w - 1 - x) * 3;
      dst[d] = src[s]!;
      dst[d + 1] = src[s + 1]!;
      dst[d + 2] = src[s + 2]!;
    }
  }
}

/** Grey level (BT.601 luma, integer weights 77/150/29 out of 256), one byte per pixel. */
export function toGrey(src: RgbImage, out?: Uint8Array): Uint8Array {
  checkImage(src);
  const n = src.width * src.height;
  const g = out ?? new Uint8Array(n);
  if (g.length < n) throw new FacegateError('bad_buffer', `Grey buffer of ${g.length} bytes is smaller than ${n} pixels.`);
  const d = src.data;
  for (let i = 0, p = 0; i < n; i++, p += 3) g[i] = (77 * d[p]! + 150 * d[p + 1]! + 29 * d[p + 2]! + 128) >> 8;
  return g;
}
