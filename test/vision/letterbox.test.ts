import { describe, expect, it } from 'vitest';
import { letterboxInto, letterboxTransform, rectTransform, tilePlan, toFrameDetection, toFramePoint, toModelPoint } from '../../src/vision/letterbox.js';
import type { RgbImage } from '../../src/vision/types.js';

const flat = (w: number, h: number, v: number): RgbImage => ({ width: w, height: h, data: new Uint8Array(w * h * 3).fill(v) });

describe('letterbox', () => {
  it('fits 200x100 into 100x100 with scale 1/2 and 25 px bars top and bottom', () => {
    expect(letterboxTransform(200, 100, 100, 100)).toEqual({ scale: 0.5, padX: 0, padY: 25 });
    expect(letterboxTransform(200, 100, 100, 100, false)).toEqual({ scale: 0.5, padX: 0, padY: 0 });
  });

  it('writes the image between the bars at the offset', () => {
    const dst = new Uint8Array(2 * 100 * 100 * 3).fill(3);
    const t = letterboxInto(flat(200, 100, 200), 100, 100, dst, 30000, { fill: 114 });
    expect(t).toEqual({ scale: 0.5, padX: 0, padY: 25 });
    expect(dst[0]).toBe(3); // first slot untouched
    const at = (x: number, y: number) => dst[30000 + (y * 100 + x) * 3];
    // Row 24 samples source y = -1.5 (bar), row 25 samples 0.5, row 74 samples 98.5, row 75 samples 100.5 (bar).
    expect([at(0, 24), at(0, 25), at(99, 74), at(50, 75)]).toEqual([114, 200, 200, 114]);
  });

  it('maps points and detections back exactly', () => {
    const t = letterboxTransform(1280, 720, 640, 640);
    for (const p of [
      [0, 0],
      [1279, 719],
      [333.25, 17.5],
    ] as [number, number][]) {
      const back = toFramePoint(toModelPoint(p, t), t);
      expect(back[0]).toBeCloseTo(p[0], 9);
      expect(back[1]).toBeCloseTo(p[1], 9);
    }
    // 1280x720 → scale 0.5, padY = (640 - 360) / 2 = 140.
    const d = toFrameDetection({ box: [10, 150, 30, 170], score: 0.9, landmarks: [[20, 160]] }, t);
    expect(d.box).toEqual([20, 20, 60, 60]);
    expect(d.landmarks).toEqual([[40, 40]]);
    expect(d.score).toBe(0.9);
  });
});

describe('tilePlan', () => {
  it('spreads overlapping tiles evenly to the frame edge', () => {
    const tiles = tilePlan(1000, 500, 320, 320, [0.5, 1], 0.25);
    // Scale 1/2: tile covers 640 frame px; x starts 0, 360 (2 tiles), y fits (1 tile).
    const half = tiles.filter((t) => t.scale === 0.5).map((t) => t.sourceRect);
    expect(half).toEqual([
      { x: 0, y: 0, w: 640, h: 640 },
      { x: 360, y: 0, w: 640, h: 640 },
    ]);
    // Scale 1: step at most 240: x 0, 680/3, 1360/3, 680 and y 0, 180.
    const one = tiles.filter((t) => t.scale === 1).map((t) => t.sourceRect);
    expect(one.length).toBe(8);
    expect(one.map((r) => r.x).slice(0, 4)).toEqual([0, 680 / 3, 1360 / 3, 680]);
    expect([...new Set(one.map((r) => r.y))]).toEqual([0, 180]);
  });

  it('maps a tile corner to the model origin and its far corner to the model size', () => {
    const [, t] = tilePlan(1000, 500, 320, 320, [0.5]);
    const tr = rectTransform(t!.sourceRect, t!.scale);
    expect(toModelPoint([360, 0], tr)).toEqual([0, 0]);
    expect(toModelPoint([1000, 640], tr)).toEqual([320, 320]);
    expect(toFramePoint([160, 160], tr)).toEqual([680, 320]);
  });

  it('covers every frame pixel at each scale', () => {
    const tiles = tilePlan(777, 431, 128, 128, [0.25, 0.5]);
    for (const s of [0.25, 0.5]) {
      const ts = tiles.filter((t) => t.scale === s);
      for (let y = 0; y < 431; y += 7) {
        for (let x = 0; x < 777; x += 7) {
          expect(ts.some(({ sourceRect: r }) => x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h)).toBe(true);
        }
      }
    }
  });

  it('rejects bad options', () => {
    expect(() => tilePlan(100, 100, 32, 32, [0])).toThrow(/scale/);
    expect(() => tilePlan(100, 100, 32, 32, [1], 1)).toThrow(/overlap/);
  });
});
