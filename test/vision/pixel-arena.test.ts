/** The WebAssembly pixel kernels against the JavaScript references (cropResizeInto, imageToNchw) and the 2x2 box formula. */
import { describe, expect, it } from 'vitest';
import { cropResizeInto, type Rect } from '../../src/vision/image.js';
import { withPixelArena, type PixelArena } from '../../src/vision/pixel-arena.js';
import type { RgbImage } from '../../src/vision/types.js';
import { FacegateError } from '../../src/util/errors.js';
import { imageToNchw } from '../../src/vision/tensor.js';
import { yunetPreprocess } from '../../src/vision/decode/yunet.js';
import { scrfdPreprocess } from '../../src/vision/decode/scrfd.js';
import { retinafacePreprocess } from '../../src/vision/decode/retinaface.js';

/** Seeded image with smooth gradients plus noise, so interpolation weights matter. */
function image(w: number, h: number, seed: number): RgbImage {
  const data = new Uint8Array(w * h * 3);
  let s = seed >>> 0;
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++)
      for (let c = 0; c < 3; c++) {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        data[(y * w + x) * 3 + c] = ((x * (c + 1) * 7 + y * 5 + (s >>> 28)) & 255) >>> 0;
      }
  return { width: w, height: h, data };
}

/** Regions inside, across every edge and fully outside, shrinking and enlarging, at fractional positions. */
function rects(w: number, h: number): Rect[] {
  const out: Rect[] = [];
  for (let k = 0; k < 60; k++) {
    const size = 3 + ((k * 37) % 180) + (k % 7) / 7;
    out.push({ x: ((k * 53) % (w + 40)) - 30 + 0.31 * (k % 3), y: ((k * 31) % (h + 40)) - 30 + 0.17 * (k % 5), w: size, h: size * (0.6 + (k % 4) * 0.25) });
  }
  out.push({ x: w + 5, y: 0, w: 10, h: 10 }, { x: 0, y: 0, w, h }, { x: -0.5, y: -0.5, w: 2, h: 2 });
  return out;
}

describe('pixel arena crops', () => {
  it('match cropResizeInto to within one level on every channel, and exactly on nearly all', async () => {
    const img = image(157, 93, 7);
    let total = 0;
    let differ = 0;
    await withPixelArena(async (arena) => {
      const staged = arena.stage(img);
      for (const r of rects(img.width, img.height)) {
        for (const [ow, oh] of [
          [24, 24],
          [48, 48],
          [12, 17],
          [200, 120],
        ] as const) {
          const want = new Uint8Array(ow * oh * 3 + 5).fill(77);
          const got = new Uint8Array(ow * oh * 3 + 5).fill(77);
          cropResizeInto(img, r, ow, oh, want, 5, 9);
          arena.cropInto(staged, r, ow, oh, got, 5, 9);
          let max = 0;
          for (let i = 0; i < want.length; i++) {
            const d = Math.abs(want[i]! - got[i]!);
            max = Math.max(max, d);
            if (d) differ++;
          }
          total += want.length;
          expect(max, `rect ${JSON.stringify(r)} -> ${ow}x${oh}`).toBeLessThanOrEqual(1);
        }
      }
    });
    expect(differ / total).toBeLessThan(0.01);
  });

  it('fill the parts outside the image and leave the rest of the destination alone', async () => {
    const img = image(10, 10, 3);
    const dst = new Uint8Array(4 * 4 * 3 + 6).fill(200);
    await withPixelArena(async (arena) => arena.cropInto(arena.stage(img), { x: 20, y: 20, w: 5, h: 5 }, 4, 4, dst, 3, 42));
    expect(Array.from(dst.subarray(0, 3))).toEqual([200, 200, 200]);
    expect(dst.subarray(3, 3 + 48).every((v) => v === 42)).toBe(true);
    expect(Array.from(dst.subarray(51))).toEqual([200, 200, 200]);
  });

  it('halve by the rounded mean of each 2x2 block, dropping an odd last row and column', async () => {
    const img = image(9, 7, 5);
    const half = new Uint8Array(4 * 3 * 3);
    await withPixelArena(async (arena) => {
      const h = arena.halve(arena.stage(img));
      expect([h.width, h.height]).toEqual([4, 3]);
      // An identity crop of the halved image reads it back unchanged.
      arena.cropInto(h, { x: 0, y: 0, w: 4, h: 3 }, 4, 3, half, 0);
    });
    const at = (x: number, y: number, c: number) => img.data[(y * 9 + x) * 3 + c]!;
    for (let y = 0; y < 3; y++)
      for (let x = 0; x < 4; x++)
        for (let c = 0; c < 3; c++) {
          const want = (at(2 * x, 2 * y, c) + at(2 * x + 1, 2 * y, c) + at(2 * x, 2 * y + 1, c) + at(2 * x + 1, 2 * y + 1, c) + 2) >> 2;
          expect(half[(y * 4 + x) * 3 + c], `(${x}, ${y}) channel ${c}`).toBe(want);
        }
  });

  it('keep concurrent calls apart, and grow for a large image', async () => {
    const a = image(64, 48, 1);
    const b = image(2000, 1500, 2);
    const crop = (arena: PixelArena, img: RgbImage) => {
      const out = new Uint8Array(24 * 24 * 3);
      arena.cropInto(arena.stage(img), { x: 3.5, y: 2.25, w: 40, h: 40 }, 24, 24, out, 0);
      return out;
    };
    const want = (img: RgbImage) => {
      const out = new Uint8Array(24 * 24 * 3);
      cropResizeInto(img, { x: 3.5, y: 2.25, w: 40, h: 40 }, 24, 24, out, 0);
      return out;
    };
    // Both calls stage their image, yield, then crop: each must read its own image.
    const run = (img: RgbImage) =>
      withPixelArena(async (arena) => {
        const s = arena.stage(img);
        await new Promise((r) => setTimeout(r, 5));
        const out = new Uint8Array(24 * 24 * 3);
        arena.cropInto(s, { x: 3.5, y: 2.25, w: 40, h: 40 }, 24, 24, out, 0);
        return out;
      });
    const [ga, gb] = await Promise.all([run(a), run(b)]);
    for (const [got, img] of [
      [ga, a],
      [gb, b],
    ] as const) {
      const w = want(img);
      expect(got.every((v, i) => Math.abs(v - w[i]!) <= 1)).toBe(true);
    }
    expect(await withPixelArena(async (arena) => crop(arena, a).every((v, i) => Math.abs(v - want(a)[i]!) <= 1))).toBe(true);
  });

  it('reject bad regions, sizes and destinations, and use after the call', async () => {
    const img = image(8, 8, 1);
    let kept: PixelArena | undefined;
    await withPixelArena(async (arena) => {
      kept = arena;
      const s = arena.stage(img);
      expect(() => arena.cropInto(s, { x: 0, y: 0, w: 0, h: 4 }, 4, 4, new Uint8Array(48))).toThrow(/empty or not finite/);
      expect(() => arena.cropInto(s, { x: NaN, y: 0, w: 4, h: 4 }, 4, 4, new Uint8Array(48))).toThrow(FacegateError);
      expect(() => arena.cropInto(s, { x: 0, y: 0, w: 4, h: 4 }, 4.5, 4, new Uint8Array(64))).toThrow(/positive integer/);
      expect(() => arena.cropInto(s, { x: 0, y: 0, w: 4, h: 4 }, 4, 4, new Uint8Array(47))).toThrow(/cannot hold/);
      expect(() => arena.stage({ width: 8, height: 8, data: new Uint8Array(10) })).toThrow(/needs 192/);
      expect(() => arena.halve({ width: 1, height: 5, ptr: s.ptr })).toThrow(/cannot be halved/);
    });
    expect(() => kept!.stage(img)).toThrow(/released/);
  });
});

describe('pixel arena float planes (a detector input)', () => {
  it.each([
    ['YuNet (BGR, raw)', yunetPreprocess],
    ['SCRFD (RGB, mean/std)', scrfdPreprocess],
    ['RetinaFace (BGR, mean)', retinafacePreprocess],
  ])('equal imageToNchw bit for bit, padding included, at widths that are and are not multiples of 16: %s', async (_, norm) => {
    for (const [w, h, W, H] of [
      [64, 36, 64, 64],
      [61, 40, 96, 64],
      [7, 5, 32, 32],
      [640, 360, 640, 384],
    ] as const) {
      const img = image(w, h, w + h);
      const want = new Float32Array(W * H * 3);
      imageToNchw(img, W, H, want, 0, norm);
      const got = await withPixelArena(async (arena) => {
        // Two slots, so the second's offset is exercised; the first is filled with NaN first and must be overwritten.
        const at = arena.allocFloats(2 * W * H * 3);
        arena.floats(at, 2 * W * H * 3).fill(NaN);
        arena.planesInto(arena.stage(img), W, H, at + W * H * 3 * 4, norm);
        return arena.floats(at + W * H * 3 * 4, W * H * 3).slice();
      });
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    }
  });

  it('refuses an image larger than the slot', async () => {
    await withPixelArena(async (arena) => {
      const s = arena.stage(image(65, 10, 1));
      expect(() => arena.planesInto(s, 64, 64, arena.allocFloats(64 * 64 * 3), yunetPreprocess)).toThrow(/does not fit/);
    });
  });
});
