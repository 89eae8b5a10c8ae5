import { describe, expect, it } from 'vitest';
import { blurScore, estimatePose, faceQuality, laplacianVariance } from '../../src/vision/quality.js';
import { ARCFACE_TEMPLATE_112 } from '../../src/vision/align.js';
import type { Point, RgbImage } from '../../src/vision/types.js';

const T = ARCFACE_TEMPLATE_112 as Point[];

const checker = (n: number): RgbImage => {
  const data = new Uint8Array(n * n * 3);
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) if ((x + y) % 2) data.fill(255, (y * n + x) * 3, (y * n + x) * 3 + 3);
  return { width: n, height: n, data };
};

describe('laplacianVariance', () => {
  it('is 0 on a flat image', () => {
    expect(laplacianVariance(new Uint8Array(100).fill(93), 10, 10)).toBe(0);
  });

  it('is 1020^2 on a one-pixel checkerboard', () => {
    // Every interior pixel has 4 neighbours of the other colour: L = +-4 * 255, mean 0 on 6x6 interior.
    expect(blurScore(checker(8))).toBe(1020 * 1020);
  });

  it('matches a hand sum for a single bright pixel', () => {
    // 5x5, centre 255: interior L = -1020 at the centre, +255 at its 4 neighbours, 0 at 4 corners.
    // Mean 0, variance (1020^2 + 4 * 255^2) / 9 = 144500.
    const g = new Uint8Array(25);
    g[12] = 255;
    expect(laplacianVariance(g, 5, 5)).toBeCloseTo(144500, 9);
  });
});

const rotate = (pts: Point[], deg: number, s = 1): Point[] => {
  const r = (deg * Math.PI) / 180,
    c = Math.cos(r) * s,
    n = Math.sin(r) * s;
  return pts.map(([x, y]) => [c * x - n * y + 200, n * x + c * y + 100] as Point);
};

describe('estimatePose', () => {
  it('is about frontal on the template', () => {
    const p = estimatePose(T);
    expect(Math.abs(p.yaw)).toBeLessThan(0.5);
    expect(p.pitch).toBeCloseTo(0, 9);
    // Eye line of the template: atan2(51.5014 - 51.6963, 73.5318 - 38.2946).
    expect(p.roll).toBeCloseTo((Math.atan2(-0.1949, 35.2372) * 180) / Math.PI, 9);
  });

  it('reads roll as the rotation angle and leaves yaw and pitch unchanged', () => {
    const p0 = estimatePose(T);
    const p = estimatePose(rotate(T, 20, 2.5));
    expect(p.roll - p0.roll).toBeCloseTo(20, 9);
    expect(p.yaw).toBeCloseTo(p0.yaw, 9);
    expect(p.pitch).toBeCloseTo(p0.pitch, 9);
  });

  it('turns a sideways nose into yaw and a raised nose into pitch', () => {
    const right = T.map((p, i) => (i === 2 ? [p[0] + 5, p[1]] : p) as Point);
    // atan(5 / (35.2377 / 2)) = 15.84 deg.
    expect(estimatePose(right).yaw).toBeCloseTo(15.84, 0);
    const up = T.map((p, i) => (i === 2 ? [p[0], p[1] - 4] : p) as Point);
    // Nose 4 px nearer the eyes over an eye-to-mouth distance of 40.69: atan(2 * 4 / 40.69) = 11.1 deg.
    expect(estimatePose(up).pitch).toBeCloseTo(11.1, 0);
  });
});

describe('faceQuality', () => {
  it('combines size, score, blur and pose', () => {
    const q = faceQuality({ box: [10, 20, 60, 90], score: 0.8, landmarks: T }, checker(8));
    expect(q.size).toBe(50);
    expect(q.score).toBe(0.8);
    expect(q.blur).toBe(1020 * 1020);
    expect(Math.abs(q.yaw)).toBeLessThan(0.5);
  });
});
