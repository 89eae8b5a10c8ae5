import { describe, expect, it } from 'vitest';
import { cropResizeInto, flipHorizontal, flipHorizontalInto, resizeBilinear, toGrey } from '../../src/vision/image.js';
import type { RgbImage } from '../../src/vision/types.js';
import { FacegateError } from '../../src/util/errors.js';

/** Image whose pixel (x, y) is (r(x, y), g(x, y), b(x, y)). */
function make(w: number, h: number, f: (x: number, y: number) => [number, number, number]): RgbImage {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data.set(f(x, y), (y * w + x) * 3);
  return { width: w, height: h, data };
}

const px = (img: RgbImage, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

describe('resizeBilinear', () => {
  it('upsamples 2 -> 4 with pixel-centre alignment', () => {
    // Output i samples source (i + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25 (edges clamp): 0, 25, 75, 100.
    const img = make(2, 1, (x) => [x * 100, 0, 200 - x * 100]);
    const out = resizeBilinear(img, 4, 1);
    expect([0, 1, 2, 3].map((x) => px(out, x, 0)[0])).toEqual([0, 25, 75, 100]);
    expect([0, 1, 2, 3].map((x) => px(out, x, 0)[2])).toEqual([200, 175, 125, 100]);
  });

  it('is the identity at the same size', () => {
    const img = make(7, 5, (x, y) => [x * 30, y * 40, (x * y) % 256]);
    expect(resizeBilinear(img, 7, 5).data).toEqual(img.data);
  });

  it('halves by averaging pixel pairs', () => {
    // Output pixel 0 samples source 0.5: the mean of pixels 0 and 1.
    const img = make(4, 2, (x) => [[10, 30, 50, 90][x]!, 0, 0]);
    const out = resizeBilinear(img, 2, 1);
    expect([px(out, 0, 0)[0], px(out, 1, 0)[0]]).toEqual([20, 70]);
  });

  it('rejects a bad target size', () => {
    expect(() =>
      resizeBilinear(
        make(2, 2, () => [0, 0, 0]),
        0,
        3,
      ),
    ).toThrow(FacegateError);
  });
});

describe('cropResizeInto', () => {
  it('writes at the offset and fills outside the image', () => {
    const img = make(2, 1, (x) => [x ? 200 : 100, 1, 2]);
    const dst = new Uint8Array(2 * 4 * 3).fill(7);
    // x from -2, width 4, 4 outputs: samples -2, -1 (outside, filled 9), 0, 1.
    cropResizeInto(img, { x: -2, y: 0, w: 4, h: 1 }, 4, 1, dst, 12, 9);
    expect(Array.from(dst.subarray(0, 12))).toEqual(new Array(12).fill(7));
    expect(Array.from(dst.subarray(12))).toEqual([9, 9, 9, 9, 9, 9, 100, 1, 2, 200, 1, 2]);
  });

  it('crops an exact sub-rectangle unchanged', () => {
    const img = make(10, 8, (x, y) => [x * 20, y * 30, 5]);
    const dst = new Uint8Array(3 * 2 * 3);
    cropResizeInto(img, { x: 4, y: 5, w: 3, h: 2 }, 3, 2, dst);
    expect(Array.from(dst)).toEqual([80, 150, 5, 100, 150, 5, 120, 150, 5, 80, 180, 5, 100, 180, 5, 120, 180, 5]);
  });

  it('refuses a buffer too small for the slot', () => {
    const img = make(4, 4, () => [0, 0, 0]);
    expect(() => cropResizeInto(img, { x: 0, y: 0, w: 4, h: 4 }, 4, 4, new Uint8Array(47), 0)).toThrow(/cannot hold/);
    expect(() => cropResizeInto(img, { x: 0, y: 0, w: 0, h: 4 }, 4, 4, new Uint8Array(48), 0)).toThrow(FacegateError);
  });

  it('rejects an image whose data is too short', () => {
    const bad = { width: 4, height: 4, data: new Uint8Array(10) };
    expect(() => cropResizeInto(bad, { x: 0, y: 0, w: 4, h: 4 }, 2, 2, new Uint8Array(12))).toThrow(/needs 48/);
  });
});

describe('flipHorizontal and toGrey', () => {
  it('mirrors columns', () => {
    const img = make(3, 2, (x, y) => [x, y, 9]);
    const f = flipHorizontal(img);
    expect(px(f, 0, 1)).toEqual([2, 1, 9]);
    expect(px(f, 2, 0)).toEqual([0, 0, 9]);
    expect(flipHorizontal(f).data).toEqual(img.data);
  });

  it('mirrors between batch slots', () => {
    const batch = new Uint8Array(2 * 2 * 1 * 3);
    batch.set([1, 2, 3, 4, 5, 6]);
    flipHorizontalInto(batch, 0, 2, 1, batch, 6);
    expect(Array.from(batch)).toEqual([1, 2, 3, 4, 5, 6, 4, 5, 6, 1, 2, 3]);
    expect(() => flipHorizontalInto(batch, 6, 2, 1, batch, 7)).toThrow(FacegateError);
  });

  it('uses 77/150/29 luma weights', () => {
    // (77*255 + 128) >> 8 = 77; (150*255 + 128) >> 8 = 149; (29*255 + 128) >> 8 = 29; white stays 255.
    const img = make(
      4,
      1,
      (x) =>
        [
          [255, 0, 0],
          [0, 255, 0],
          [0, 0, 255],
          [255, 255, 255],
        ][x] as [number, number, number],
    );
    expect(Array.from(toGrey(img))).toEqual([77, 149, 29, 255]);
  });
});
