import { describe, expect, it } from 'vitest';
import { areaResizeInto, resizeArea, summedArea } from '../../src/vision/area.js';
import { resizeBilinear } from '../../src/vision/image.js';
import type { RgbImage } from '../../src/vision/types.js';

function make(w: number, h: number, f: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(f(x, y), (y * w + x) * 3);
  return { width: w, height: h, data };
}

describe('area resize', () => {
  it('averages whole blocks', () => {
    const rows = [[10, 30, 50, 90], [20, 40, 60, 100]];
    const img = make(4, 2, (x, y) => [rows[y][x], 255 - rows[y][x], 7]);
    // Blocks: (10 + 30 + 20 + 40) / 4 = 25 and (50 + 90 + 60 + 100) / 4 = 75.
    expect(Array.from(resizeArea(img, 2, 1).data)).toEqual([25, 230, 7, 75, 180, 7]);
  });

  it('rounds footprints to whole pixels for fractional factors', () => {
    // 3 -> 2: footprints [0, 2) and [2, 3): (0 + 100) / 2 = 50, then 200.
    const img = make(3, 1, (x) => [x * 100, 0, 0]);
    expect(Array.from(resizeArea(img, 2, 1).data.filter((_, i) => i % 3 === 0))).toEqual([50, 200]);
  });

  it('agrees with bilinear at exactly half size, and keeps flat images flat', () => {
    const img = make(64, 48, (x, y) => [(x * 7 + y * 3) % 256, (x * y) % 256, y * 5]);
    expect(resizeArea(img, 32, 24).data).toEqual(resizeBilinear(img, 32, 24).data);
    const flat = make(101, 77, () => [9, 99, 199]);
    const out = resizeArea(flat, 13, 7).data;
    for (let i = 0; i < out.length; i += 3) expect([out[i], out[i + 1], out[i + 2]]).toEqual([9, 99, 199]);
  });

  it('cuts regions from one table into batch slots, filling outside the image', () => {
    const img = make(8, 8, (x, y) => [x * 10, y * 10, 1]);
    const sat = summedArea(img);
    const dst = new Uint8Array(2 * 2 * 2 * 3).fill(3);
    // Region x -8..8 (half outside) at 2x2: left column filled, right column the mean of x 0..7 = 35.
    areaResizeInto(sat, { x: -8, y: 0, w: 16, h: 8 }, 2, 2, dst, 12, 66);
    expect(Array.from(dst.subarray(0, 12))).toEqual(new Array(12).fill(3));
    expect(Array.from(dst.subarray(12))).toEqual([66, 66, 66, 35, 15, 1, 66, 66, 66, 35, 55, 1]);
  });
});
