import { describe, expect, it } from 'vitest';
import { letterboxInto } from '../../src/vision/letterbox.js';
import { imageToNchw, nhwcToNchw } from '../../src/vision/tensor.js';
import { yunetPreprocess } from '../../src/vision/decode/yunet.js';
import { scrfdPreprocess } from '../../src/vision/decode/scrfd.js';

function image(w: number, h: number) {
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 37 + (i >> 5)) & 255;
  return { width: w, height: h, data };
}

describe('imageToNchw (a frame already at the detector scale, in one pass)', () => {
  it.each([
    ['YuNet (BGR, raw)', yunetPreprocess],
    ['SCRFD (mean/std)', scrfdPreprocess],
  ])('equals letterboxing then converting, padding included: %s', (_, norm) => {
    const img = image(64, 36);
    const W = 64,
      H = 64;
    const u8 = new Uint8Array(W * H * 3);
    const t = letterboxInto(img, W, H, u8, 0, { centre: false });
    expect(t).toEqual({ scale: 1, padX: 0, padY: 0 });
    const want = new Float32Array(W * H * 3);
    nhwcToNchw(u8, 0, W, H, want, 0, norm);
    const got = new Float32Array(2 * W * H * 3).fill(NaN);
    imageToNchw(img, W, H, got, W * H * 3, norm);
    expect(Array.from(got.subarray(W * H * 3))).toEqual(Array.from(want));
  });
  it('refuses an image larger than the input', () => {
    expect(() => imageToNchw(image(65, 10), 64, 64, new Float32Array(64 * 64 * 3), 0, yunetPreprocess)).toThrow(/does not fit/);
  });
});
