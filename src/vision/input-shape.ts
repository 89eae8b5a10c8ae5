/** The input shape a dynamic-input detector runs a frame at: its own aspect, bounded, in whole model multiples. */
import { FacegateError } from '../util/errors.js';

/**
 * [W, H] for a `width`x`height` image: scaled so the longest side is at most `maxSide` (never enlarged), each
 * side rounded up to a multiple of `multiple` (the rest is padding). 640x360, 640, 32 → [640, 384].
 */
export function nativeShape(width: number, height: number, maxSide: number, multiple: number): [number, number] {
  if (!(width > 0 && height > 0 && maxSide >= multiple && multiple > 0))
    throw new FacegateError('bad_size', `No detector input for a ${width}x${height} image at ${maxSide} (multiple ${multiple}).`);
  const scale = Math.min(1, maxSide / Math.max(width, height));
  const up = (x: number) => Math.max(multiple, Math.ceil(Math.round(x * scale * 1e6) / 1e6 / multiple) * multiple);
  return [up(width), up(height)];
}
