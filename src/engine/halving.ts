/**
 * Anti-aliased downscaling for MTCNN: a frame's 2x2-box-filter halvings, so that a strong downscale
 * (a large face to a 12/24/48-px net input) samples a level at most 2x larger than the target instead of
 * skipping pixels of the full frame with a bilinear tap. The levels live in the call's pixel arena.
 */
import type { PixelArena, StagedImage } from '../vision/pixel-arena.js';
import type { Rect } from '../vision/image.js';
import type { RgbImage } from '../vision/types.js';

/** Level k is the frame halved k times (level 0 is the frame itself); built lazily. */
export class Halvings {
  private readonly levels: StagedImage[];
  /** `noHalving`: always sample the frame itself (plain bilinear). */
  constructor(
    private readonly arena: PixelArena,
    frame: RgbImage,
    private readonly noHalving = false,
  ) {
    this.levels = [arena.stage(frame)];
  }

  /** The smallest level whose scale (relative to the frame) is still >= `scale`, with that scale. */
  pick(scale: number): { img: StagedImage; s: number } {
    let k = 0;
    while (!this.noHalving && 2 ** -(k + 1) >= scale && this.levels[0]!.width >> (k + 1) >= 24 && this.levels[0]!.height >> (k + 1) >= 24) k++;
    while (this.levels.length <= k) this.levels.push(this.arena.halve(this.levels[this.levels.length - 1]!));
    const img = this.levels[k]!;
    return { img: img!, s: img.width / this.levels[0]!.width };
  }

  /** Resample the frame region `rect` (frame pixels) to `outW`x`outH` into `dst` at `offset`. */
  cropInto(rect: Rect, outW: number, outH: number, dst: Uint8Array, offset: number): void {
    const { img, s } = this.pick(Math.min(outW / rect.w, outH / rect.h));
    const sy = img.height / this.levels[0]!.height;
    this.arena.cropInto(img, { x: rect.x * s, y: rect.y * sy, w: rect.w * s, h: rect.h * sy }, outW, outH, dst, offset, 0);
  }
}
