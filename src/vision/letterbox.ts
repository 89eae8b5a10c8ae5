/**
 * Letterboxing a frame into a model input, and tiling plans for frames much larger than the model input.
 * Every placement is an affine map model = frame * scale + pad, undone by `toFrame*`.
 */
import { FacegateError } from '../util/errors.js';
import { cropResizeInto, type Rect } from './image.js';
import type { Detection, Point, RgbImage } from './types.js';

/** model_x = frame_x * scale + padX, model_y = frame_y * scale + padY. */
export interface PlaneTransform {
  scale: number;
  padX: number;
  padY: number;
}

/** Where the frame lands inside a `dstW`x`dstH` input: scaled to fit, centred (or top-left) padding. */
export function letterboxTransform(srcW: number, srcH: number, dstW: number, dstH: number, centre = true): PlaneTransform {
  if (!(srcW > 0 && srcH > 0 && dstW > 0 && dstH > 0)) {
    throw new FacegateError('bad_size', `Cannot letterbox ${srcW}x${srcH} into ${dstW}x${dstH}.`);
  }
  const scale = Math.min(dstW / srcW, dstH / srcH);
  if (!centre) return { scale, padX: 0, padY: 0 };
  return { scale, padX: (dstW - srcW * scale) / 2, padY: (dstH - srcH * scale) / 2 };
}

/** The frame region that `t` maps onto the whole `dstW`x`dstH` input (extends past the frame where padded). */
export function sourceRectOf(t: PlaneTransform, dstW: number, dstH: number): Rect {
  return { x: -t.padX / t.scale, y: -t.padY / t.scale, w: dstW / t.scale, h: dstH / t.scale };
}

/** Transform of a tile: the frame region `rect` resampled at `scale` to fill the model input. */
export function rectTransform(rect: Rect, scale: number): PlaneTransform {
  return { scale, padX: -rect.x * scale, padY: -rect.y * scale };
}

/**
 * Letterboxes `src` into a `dstW`x`dstH` NHWC uint8 slot of `dst` at element `offset`; padding gets `fill`.
 * Returns the transform for mapping detections back.
 */
export function letterboxInto(
  src: RgbImage,
  dstW: number,
  dstH: number,
  dst: Uint8Array,
  offset = 0,
  opts: { fill?: number; centre?: boolean } = {},
): PlaneTransform {
  const t = letterboxTransform(src.width, src.height, dstW, dstH, opts.centre ?? true);
  cropResizeInto(src, sourceRectOf(t, dstW, dstH), dstW, dstH, dst, offset, opts.fill ?? 0);
  return t;
}

export function toFramePoint(p: Point, t: PlaneTransform): Point {
  return [(p[0] - t.padX) / t.scale, (p[1] - t.padY) / t.scale];
}

export function toModelPoint(p: Point, t: PlaneTransform): Point {
  return [p[0] * t.scale + t.padX, p[1] * t.scale + t.padY];
}

/** Maps a detection in model-input pixels back to frame pixels. */
export function toFrameDetection(d: Detection, t: PlaneTransform): Detection {
  const [x1, y1] = toFramePoint([d.box[0], d.box[1]], t);
  const [x2, y2] = toFramePoint([d.box[2], d.box[3]], t);
  return { box: [x1, y1, x2, y2], score: d.score, landmarks: d.landmarks.map((p) => toFramePoint(p, t)) };
}

export interface Tile {
  /** Frame region fed to the model; may extend past the frame (fill it). */
  sourceRect: Rect;
  /** Model pixels per frame pixel. */
  scale: number;
}

/**
 * Tiles covering a `frameW`x`frameH` frame at each scale with `tileW`x`tileH` model inputs. Adjacent tiles
 * overlap by at least `overlap` (fraction of a tile); tiles are spread evenly so the last one ends at the frame
 * edge. A scale at which the frame fits in one tile gives one tile anchored at the frame origin.
 * Map detections back with `rectTransform(tile.sourceRect, tile.scale)`.
 */
export function tilePlan(frameW: number, frameH: number, tileW: number, tileH: number, scales: readonly number[], overlap = 0.25): Tile[] {
  if (!(overlap >= 0 && overlap < 1)) throw new FacegateError('bad_option', `Tile overlap ${overlap} must be in [0, 1).`);
  const tiles: Tile[] = [];
  for (const scale of scales) {
    if (!(scale > 0)) throw new FacegateError('bad_option', `Tile scale ${scale} must be positive.`);
    const w = tileW / scale;
    const h = tileH / scale;
    const xs = starts(frameW, w, overlap);
    const ys = starts(frameH, h, overlap);
    for (const y of ys) for (const x of xs) tiles.push({ sourceRect: { x, y, w, h }, scale });
  }
  return tiles;
}

function starts(size: number, tile: number, overlap: number): number[] {
  if (size <= tile) return [0];
  const step = tile * (1 - overlap);
  const n = Math.ceil((size - tile) / step) + 1;
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push(((size - tile) * i) / (n - 1));
  return out;
}
