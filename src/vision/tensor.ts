/** Conversion of NHWC uint8 RGB batch slots into the float NCHW tensors that third-party detectors take. */
import { FacegateError } from '../util/errors.js';
import { checkDst } from './image.js';

/** How a model wants its float input: value = (pixel - mean[c]) / std[c], channels in `channelOrder`. */
export interface Normalisation {
  channelOrder: 'rgb' | 'bgr';
  /** Per channel, in the model's channel order. */
  mean: readonly [number, number, number];
  std: readonly [number, number, number];
}

/**
 * Where each source (RGB) channel goes in a planar slot of `n` pixels at `dstOffset`, and its mean and 1/std:
 * plane k holds source channel k, or the reverse for BGR models; mean/std are given in the model's channel order.
 */
function planeLayout(norm: Normalisation, n: number, dstOffset: number) {
  const bgr = norm.channelOrder === 'bgr';
  const r = bgr ? 2 : 0;
  const b = bgr ? 0 : 2;
  return {
    p0: dstOffset + r * n,
    p1: dstOffset + n,
    p2: dstOffset + b * n,
    m0: norm.mean[r],
    m1: norm.mean[1],
    m2: norm.mean[b],
    s0: 1 / norm.std[r],
    s1: 1 / norm.std[1],
    s2: 1 / norm.std[b],
  };
}

/**
 * Reads one `w`x`h` RGB NHWC uint8 image from `src` at `srcOffset` and writes it normalised, planar (CHW),
 * into `dst` at `dstOffset`.
 */
export function nhwcToNchw(src: Uint8Array, srcOffset: number, w: number, h: number, dst: Float32Array, dstOffset: number, norm: Normalisation): void {
  const n = w * h;
  if (srcOffset < 0 || srcOffset + n * 3 > src.length) {
    throw new FacegateError('bad_buffer', `Source buffer of ${src.length} bytes has no ${w}x${h} image at ${srcOffset}.`);
  }
  checkDst(dst, dstOffset, n * 3);
  const { p0, p1, p2, m0, m1, m2, s0, s1, s2 } = planeLayout(norm, n, dstOffset);
  for (let i = 0, p = srcOffset; i < n; i++, p += 3) {
    dst[p0 + i] = (src[p]! - m0) * s0;
    dst[p1 + i] = (src[p + 1]! - m1) * s1;
    dst[p2 + i] = (src[p + 2]! - m2) * s2;
  }
}

/**
 * Writes `img` unscaled into the top-left of a `w`x`h` planar (CHW) slot of `dst` at `dstOffset`, normalised;
 * the rest of the slot gets what a black (0) pixel normalises to, as letterboxing with fill 0 gives. One pass,
 * no intermediate image: the path of a frame that is already at the detector's scale.
 */
export function imageToNchw(
  img: { width: number; height: number; data: Uint8Array },
  w: number,
  h: number,
  dst: Float32Array,
  dstOffset: number,
  norm: Normalisation,
): void {
  const { width: iw, height: ih, data: src } = img;
  if (iw > w || ih > h) throw new FacegateError('bad_size', `A ${iw}x${ih} image does not fit a ${w}x${h} input unscaled.`);
  const n = w * h;
  checkDst(dst, dstOffset, n * 3);
  const { p0, p1, p2, m0, m1, m2, s0, s1, s2 } = planeLayout(norm, n, dstOffset);
  const pad: [number, number, number] = [(0 - m0) * s0, (0 - m1) * s1, (0 - m2) * s2];
  [p0, p1, p2].forEach((p, c) => dst.fill(pad[c]!, p, p + n));
  for (let y = 0; y < ih; y++) {
    const row = y * w;
    for (let x = 0, p = y * iw * 3; x < iw; x++, p += 3) {
      dst[p0 + row + x] = (src[p]! - m0) * s0;
      dst[p1 + row + x] = (src[p + 1]! - m1) * s1;
      dst[p2 + row + x] = (src[p + 2]! - m2) * s2;
    }
  }
}
