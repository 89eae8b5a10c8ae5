/**
 * Anti-aliased downscaling for MTCNN: a frame's 2x2-box-filter halvings, so that a strong downscale
 * (a large face to a 12/24/48-px net input) samples a level at most 2x larger than the target instead of
 * skipping pixels of the full frame with a bilinear tap.
 */
import { cropResizeInto, type Rect } from '../vision/image.js';
import type { RgbImage } from '../vision/types.js';

/** Halves an image (odd last row/column dropped) by averaging 2x2 blocks. */
export function halve(src: RgbImage): RgbImage {
  const w = src.width >> 1;
  const h = src.height >> 1;
  const out = new Uint8Array(w * h * 3);
  const row = src.width * 3;
  const d = src.data;
  for (let y = 0; y < h; y++) {
    const r0 = 2 * y * row;
    const r1 = r0 + row;
    for (let x = 0; x < w; x++) {
      const p = 6 * x;
      const o = (y * w + x) * 3;
      for (let c = 0; c < 3; c++) out[o + c] = (d[r0 + p + c] + d[r0 + p + 3 + c] + d[r1 + p + c] + d[r1 + p + 3 + c] + 2) >> 2;
    }
  }
  return { width: w, height: h, data: out };
}

/** Level k is the frame halved k times (level 0 is the frame itself); built lazily. */
export class Halvings {
  private readonly levels: RgbImage[];
  /** `noHalving`: always sample the frame itself (plain bilinear). */
  constructor(frame: RgbImage, private readonly noHalving = false) {
    this.levels = [frame];
  }

  /** The smallest level whose scale (relative to the frame) is still >= `scale`, with that scale. */
  pick(scale: number): { img: RgbImage; s: number } {
    let k = 0;
    while (!this.noHalving && 2 ** -(k + 1) >= scale && this.levels[0].width >> (k + 1) >= 24 && this.levels[0].height >> (k + 1) >= 24) k++;
    while (this.levels.length <= k) this.levels.push(halve(this.levels[this.levels.length - 1]));
    const img = this.levels[k];
    return { img, s: img.width / this.levels[0].width };
  }

  /** Resample the frame region `rect` (frame pixels) to `outW`x`outH` into `dst` at `offset`. */
  cropInto(rect: Rect, outW: number, outH: number, dst: Uint8Array, offset: number): void {
    const { img, s } = this.pick(Math.min(outW / rect.w, outH / rect.h));
    const sy = img.height / this.levels[0].height;
    cropResizeInto(img, { x: rect.x * s, y: rect.y * sy, w: rect.w * s, h: rect.h * sy }, outW, outH, dst, offset, 0);
  }
}
