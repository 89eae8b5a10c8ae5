import { describe, expect, it } from 'vitest';
import { iou, nms, overlap, weightedNms } from '../../src/vision/nms.js';
import type { Box, Detection, Point } from '../../src/vision/types.js';

const det = (box: Box, score: number, lm: Point = [0, 0]): Detection => ({ box, score, landmarks: [lm, lm, lm, lm, lm] });

const A = det([0, 0, 10, 10], 0.9);
const B = det([1, 0, 11, 10], 0.8); // IoU with A: 90 / 110
const C = det([20, 20, 30, 30], 0.7);
const D = det([0, 0, 10, 5], 0.95); // inside A: IoU 0.5, min-overlap 1

describe('overlap', () => {
  it('computes IoU and intersection over the smaller area', () => {
    expect(iou(A.box, B.box)).toBeCloseTo(90 / 110, 12);
    expect(iou(A.box, C.box)).toBe(0);
    expect(iou(A.box, D.box)).toBeCloseTo(0.5, 12);
    expect(overlap(A.box, D.box, 'min')).toBeCloseTo(1, 12);
    expect(overlap(B.box, D.box, 'min')).toBeCloseTo(45 / 50, 12);
    expect(iou([0, 0, 10, 10], [10, 0, 20, 10])).toBe(0); // touching edges
  });
});

describe('nms', () => {
  it('keeps the best of each overlapping group, by score', () => {
    expect(nms([B, C, A], 0.5)).toEqual([A, C]);
    expect(nms([B, C, A], 0.9)).toEqual([A, B, C]);
    expect(nms([], 0.5)).toEqual([]);
  });

  it('drops nested boxes in min mode only', () => {
    expect(nms([A, B, C, D], 0.6)).toEqual([D, A, C]);
    expect(nms([A, B, C, D], 0.6, 'min')).toEqual([D, C]);
  });
});

describe('weightedNms', () => {
  it('averages boxes and landmarks of a cluster by score', () => {
    const p = det([0, 0, 10, 10], 0.75, [1, 1]);
    const q = det([2, 0, 12, 10], 0.25, [5, 3]); // IoU 80 / 120
    const far = det([50, 50, 60, 60], 0.5, [55, 55]);
    const out = weightedNms([q, far, p], 0.5);
    expect(out.length).toBe(2);
    expect(out[0]!.score).toBe(0.75);
    // 0.75 * p + 0.25 * q
    out[0]!.box.forEach((v, i) => expect(v).toBeCloseTo([0.5, 0, 10.5, 10][i]!, 12));
    for (const pt of out[0]!.landmarks) {
      expect(pt[0]).toBeCloseTo(2, 12);
      expect(pt[1]).toBeCloseTo(1.5, 12);
    }
    expect(out[1]).toEqual(far);
    expect(out[1]).not.toBe(far);
  });

  it('leaves separate boxes alone', () => {
    expect(weightedNms([A, C], 0.3)).toEqual([A, C]);
  });
});
