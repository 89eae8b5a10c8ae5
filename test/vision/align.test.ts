import { describe, expect, it } from 'vitest';
import {
  ARCFACE_TEMPLATE_112,
  alignFace,
  alignFaceInto,
  applyAffine,
  arcfaceTemplate,
  estimateSimilarity,
  invertAffine,
  warpAffine,
  type Affine,
} from '../../src/vision/align.js';
import type { Point, RgbImage } from '../../src/vision/types.js';
import { FacegateError } from '../../src/util/errors.js';

const T = ARCFACE_TEMPLATE_112 as Point[];

function expectAffine(m: Affine, want: Affine, digits: number) {
  m.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, digits));
}

describe('estimateSimilarity', () => {
  it('fits the template onto itself as the identity', () => {
    expectAffine(estimateSimilarity(T, T), [1, 0, 0, 0, 1, 0], 12);
  });

  it('recovers a known rotation, scale and translation', () => {
    const th = (30 * Math.PI) / 180,
      s = 1.7,
      tx = 12,
      ty = -5;
    const a = s * Math.cos(th),
      b = s * Math.sin(th);
    const dst = T.map(([x, y]) => [a * x - b * y + tx, b * x + a * y + ty] as Point);
    expectAffine(estimateSimilarity(T, dst), [a, -b, tx, b, a, ty], 9);
    // And the inverse direction.
    const inv = estimateSimilarity(dst, T);
    const p = applyAffine(inv, dst[2]!);
    expect(p[0]).toBeCloseTo(T[2]![0], 9);
    expect(p[1]).toBeCloseTo(T[2]![1], 9);
  });

  it('never returns a reflection, even for mirrored points', () => {
    const mirrored = T.map(([x, y]) => [112 - x, y] as Point);
    const m = estimateSimilarity(mirrored, T);
    expect(m[0]).toBeCloseTo(m[4], 12);
    expect(m[1]).toBeCloseTo(-m[3], 12);
    expect(m[0] * m[4] - m[1] * m[3]).toBeGreaterThanOrEqual(0);
  });

  it('scales the template for other crop sizes', () => {
    expect(arcfaceTemplate(224)[0]).toEqual([38.2946 * 2, 51.6963 * 2]);
  });

  it('rejects degenerate landmarks', () => {
    const same = Array.from({ length: 5 }, () => [3, 3] as Point);
    expect(() => estimateSimilarity(same, T)).toThrow(FacegateError);
    expect(() => estimateSimilarity(T.slice(0, 4), T)).toThrow(FacegateError);
  });
});

describe('warpAffine', () => {
  // 50x40, black but for pixel (10, 20) = (255, 128, 64).
  const src: RgbImage = { width: 50, height: 40, data: new Uint8Array(50 * 40 * 3) };
  src.data.set([255, 128, 64], (20 * 50 + 10) * 3);
  const at = (img: RgbImage, x: number, y: number) => Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));

  it('puts a pixel where a translation sends it', () => {
    const out = warpAffine(src, [1, 0, 5, 0, 1, 3], 60, 50);
    expect(at(out, 15, 23)).toEqual([255, 128, 64]);
    expect(at(out, 14, 23)).toEqual([0, 0, 0]);
    expect(at(out, 15, 24)).toEqual([0, 0, 0]);
  });

  it('interpolates half-way between pixels when scaling by 2', () => {
    const out = warpAffine(src, [2, 0, 0, 0, 2, 0], 100, 80);
    expect(at(out, 20, 40)).toEqual([255, 128, 64]);
    // (21, 40) samples (10.5, 20): half of each channel, rounded half up.
    expect(at(out, 21, 40)).toEqual([128, 64, 32]);
    // (21, 41) samples (10.5, 20.5): a quarter.
    expect(at(out, 21, 41)).toEqual([64, 32, 16]);
  });

  it('fills outside the source', () => {
    const out = warpAffine(src, [1, 0, 100, 0, 1, 0], 10, 10, 77);
    expect(at(out, 5, 5)).toEqual([77, 77, 77]);
  });

  it('inverts affines', () => {
    const m: Affine = [1.2, -0.3, 7, 0.4, 0.9, -2];
    const p = applyAffine(invertAffine(m), applyAffine(m, [3, 4]));
    expect(p[0]).toBeCloseTo(3, 12);
    expect(p[1]).toBeCloseTo(4, 12);
    expect(() => invertAffine([1, 2, 0, 2, 4, 0])).toThrow(FacegateError);
  });
});

describe('alignFace', () => {
  // Pixel (x, y) = (x mod 256, y mod 256, 9): bilinear sampling of it is exact.
  const W = 320,
    H = 300;
  const ramp: RgbImage = { width: W, height: H, data: new Uint8Array(W * H * 3) };
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) ramp.data.set([x % 256, y % 256, 9], (y * W + x) * 3);

  it('samples the frame at template * 2 + (50, 30)', () => {
    const lm = T.map(([x, y]) => [2 * x + 50, 2 * y + 30] as Point);
    const { image, transform } = alignFace(ramp, lm, 112);
    expectAffine(transform, [0.5, 0, -25, 0, 0.5, -15], 12);
    for (const [u, v] of [
      [0, 0],
      [40, 60],
      [100, 111],
    ]) {
      const o = (v! * 112 + u!) * 3;
      expect(Array.from(image.data.subarray(o, o + 3))).toEqual([(2 * u! + 50) % 256, (2 * v! + 30) % 256, 9]);
    }
  });

  it('writes into a batch slot', () => {
    const lm = T.map(([x, y]) => [x + 20, y + 10] as Point);
    const batch = new Uint8Array(3 * 112 * 112 * 3).fill(1);
    alignFaceInto(ramp, lm, 112, batch, 2 * 112 * 112 * 3);
    expect(batch[0]).toBe(1);
    const o = 2 * 112 * 112 * 3 + (5 * 112 + 7) * 3;
    expect(Array.from(batch.subarray(o, o + 3))).toEqual([27, 15, 9]);
  });
});
