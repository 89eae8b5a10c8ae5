import { describe, expect, it } from 'vitest';
import { averagePrecision, evaluateDetection, iou, matchDetections, parseLabels, prCurve } from '../../src/eval/detection.js';
import type { Box } from '../../src/vision/types.js';

describe('parseLabels', () => {
  it('reads images and boxes, skipping comment lines', () => {
    const r = parseLabels('# a comment line about the file\n# img/a.jpg 100 50\n1 2 11 22\n3 4 5 6\n# img/b.jpg 10 10\n');
    expect(r).toEqual([
      {
        path: 'img/a.jpg',
        width: 100,
        height: 50,
        boxes: [
          [1, 2, 11, 22],
          [3, 4, 5, 6],
        ],
      },
      { path: 'img/b.jpg', width: 10, height: 10, boxes: [] },
    ]);
  });
  it('rejects a box line before any image or with missing numbers', () => {
    expect(() => parseLabels('1 2 3 4\n')).toThrow(/line 1/);
    expect(() => parseLabels('# a.jpg 4 4\n1 2 x 4\n')).toThrow(/line 2/);
  });
});

describe('iou', () => {
  it('is 1/7 for two unit-offset 2x2... squares overlapping by a quarter', () => {
    expect(iou([0, 0, 2, 2], [1, 1, 3, 3])).toBeCloseTo(1 / 7);
    expect(iou([0, 0, 1, 1], [2, 2, 3, 3])).toBe(0);
  });
});

describe('average precision', () => {
  const gt: Box[][] = [
    [
      [0, 0, 100, 100],
      [200, 0, 300, 100],
    ],
  ];
  it('is 1 when all faces are found before any false positive', () => {
    const r = evaluateDetection(gt, [
      [
        { box: [0, 0, 100, 100], score: 0.9 },
        { box: [200, 0, 300, 100], score: 0.8 },
        { box: [500, 500, 600, 600], score: 0.1 },
      ],
    ]);
    expect(r.ap50).toBeCloseTo(1);
  });
  it('follows the all-point interpolated envelope', () => {
    // TP (p=1, r=.5), FP (p=.5), TP (p=2/3, r=1) → AP = .5*1 + .5*(2/3)
    const m = matchDetections(gt, [
      [
        { box: [0, 0, 100, 100], score: 0.9 },
        { box: [500, 0, 600, 100], score: 0.8 },
        { box: [200, 0, 300, 100], score: 0.7 },
      ],
    ]);
    const curve = prCurve(m.matched, m.counted);
    expect(curve.map((p) => p.precision)).toEqual([1, 0.5, 2 / 3]);
    expect(averagePrecision(curve)).toBeCloseTo(0.5 + 0.5 * (2 / 3));
  });
  it('counts a duplicate detection of one face as a false positive', () => {
    const m = matchDetections(gt, [
      [
        { box: [0, 0, 100, 100], score: 0.9 },
        { box: [2, 2, 100, 100], score: 0.8 },
      ],
    ]);
    expect(m.matched.map((x) => x.tp)).toEqual([1, 0]);
  });
  it('ignores small faces and small unmatched detections for AP >= 32 px', () => {
    const g: Box[][] = [
      [
        [0, 0, 100, 100],
        [300, 300, 310, 310],
      ],
    ];
    const d = [
      [
        { box: [300, 300, 310, 310] as Box, score: 0.95 }, // matches the 10-px face: ignored
        { box: [600, 600, 620, 620] as Box, score: 0.9 }, // unmatched 20 px < 28: ignored
        { box: [0, 0, 100, 100] as Box, score: 0.5 },
      ],
    ];
    const r = evaluateDetection(g, d, 32);
    expect(r.ap50Min32).toBeCloseTo(1);
    // Over all faces the 20-px false positive comes before the second hit.
    expect(r.ap50).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3));
  });
  it('reports recall by face height at the precision-0.9 score', () => {
    const g: Box[][] = [
      [
        [0, 0, 10, 10],
        [0, 100, 20, 120],
        [100, 0, 200, 100],
      ],
    ];
    const d = [
      [
        { box: [100, 0, 200, 100] as Box, score: 0.9 },
        { box: [0, 100, 20, 120] as Box, score: 0.8 },
        { box: [500, 0, 510, 10] as Box, score: 0.7 },
      ],
    ];
    const r = evaluateDetection(g, d, 32);
    expect(r.scoreAtP90).toBeCloseTo(0.8);
    expect(r.recallBySize['<16']).toEqual({ recall: 0, faces: 1 });
    expect(r.recallBySize['16-32']).toEqual({ recall: 1, faces: 1 });
    expect(r.recallBySize['64-128']).toEqual({ recall: 1, faces: 1 });
    expect(r.recallBySize['>=128']!.faces).toBe(0);
  });
});
