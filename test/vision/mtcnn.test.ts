import { describe, expect, it } from 'vitest';
import { calibrate, cropBatch, onetFinish, onetLandmarks, pnetCandidates, pnetMerge, pyramid, rnetRefine, squareBox } from '../../src/vision/mtcnn.js';
import type { Detection, RgbImage } from '../../src/vision/types.js';
import { FacegateError } from '../../src/util/errors.js';

describe('pyramid', () => {
  it('starts at 12 / minFaceSize and stops when a 12-px cell no longer fits', () => {
    const lv = pyramid(640, 480, 20);
    // 0.6 * 0.709^9 = 0.0271 (480 * that = 13.0 >= 12); 0.709^10 gives 9.2 px.
    expect(lv.length).toBe(10);
    expect(lv[0]).toEqual({ scale: 0.6, width: 384, height: 288 });
    expect(lv[1]!.scale).toBeCloseTo(0.6 * 0.709, 12);
    expect(lv[9]!.height).toBe(Math.ceil(480 * 0.6 * 0.709 ** 9));
    expect(pyramid(100, 100, 200)).toEqual([]);
    expect(() => pyramid(100, 100, 20, 1.2)).toThrow(FacegateError);
  });
});

describe('P-Net candidates', () => {
  // Output map 3 wide, 2 high; only cell (x=2, y=1) passes 0.6.
  const prob = new Float32Array([0.1, 0.2, 0.3, 0.4, 0.5, 0.9]);
  const reg = new Float32Array(6 * 4);
  reg.set([0.1, 0.2, 0.3, 0.4], 5 * 4);
  const level = { scale: 0.5, width: 50, height: 40 };

  it('maps a cell to its 12-px window in frame pixels', () => {
    const c = pnetCandidates(prob, reg, 3, 2, level, 100, 80, 0.6);
    expect(c.length).toBe(1);
    // Resized window [4, 2, 16, 14] at scale 1/2.
    expect(c[0]!.box).toEqual([8, 4, 32, 28]);
    expect(c[0]!.score).toBeCloseTo(0.9, 6);
    expect(c[0]!.reg.map((v) => +v.toFixed(6))).toEqual([0.1, 0.2, 0.3, 0.4]);
  });

  it('reads swapped regression channels when told', () => {
    const c = pnetCandidates(prob, reg, 3, 2, level, 100, 80, 0.6, 0, { reg: 'y1x1y2x2', landmarks: 'x5y5' });
    expect(c[0]!.reg.map((v) => +v.toFixed(6))).toEqual([0.2, 0.1, 0.4, 0.3]);
  });

  it('reads the second batch item', () => {
    const p2 = new Float32Array(12);
    p2[6] = 0.95; // item 1, cell (0, 0)
    const c = pnetCandidates(p2, new Float32Array(48), 3, 2, level, 100, 80, 0.6, 1);
    expect(c.map((d) => d.box)).toEqual([[0, 0, 24, 24]]);
  });

  it('merges levels with NMS, regresses and squares', () => {
    const a = { box: [0, 0, 24, 24] as [number, number, number, number], score: 0.9, landmarks: [], reg: [0, 0, 0.5, 0] as [number, number, number, number] };
    const b = { ...a, box: [1, 1, 25, 25] as [number, number, number, number], score: 0.8 };
    const out = pnetMerge([[a], [b]], 100, 100);
    // b is suppressed (IoU 0.85); a becomes [0, 0, 36, 24] then the 36-px square around its centre.
    expect(out).toEqual([{ box: [0, -6, 36, 30], score: 0.9, landmarks: [] }]);
  });
});

describe('box maths', () => {
  it('calibrates by fractions of width and height', () => {
    expect(calibrate([10, 20, 30, 60], [0.1, -0.05, 0.2, 0])).toEqual([12, 18, 34, 60]);
  });

  it('squares around the centre', () => {
    expect(squareBox([0, 0, 10, 20])).toEqual([-5, 0, 15, 20]);
    expect(squareBox([0, 0, 20, 10])).toEqual([0, -5, 20, 15]);
  });
});

describe('R-Net and O-Net', () => {
  const boxes: Detection[] = [
    { box: [10, 10, 60, 110], score: 0.7, landmarks: [] },
    { box: [20, 30, 50, 90], score: 0.7, landmarks: [] }, // inside the first
    { box: [200, 200, 240, 240], score: 0.7, landmarks: [] },
  ];

  it('R-Net keeps boxes over the threshold, regresses and squares them', () => {
    const out = rnetRefine(boxes, new Float32Array([0.9, 0.5, 0.8]), new Float32Array(12), 300, 300);
    expect(out.map((d) => d.box)).toEqual([
      [-15, 10, 85, 110],
      [200, 200, 240, 240],
    ]);
    expect(out[1]!.score).toBeCloseTo(0.8, 6);
  });

  it('decodes O-Net landmarks as fractions of the fed box', () => {
    const lm = new Float32Array([0.2, 0.8, 0.5, 0.3, 0.7, 0.3, 0.3, 0.6, 0.8, 0.8]);
    const pts = onetLandmarks([10, 10, 60, 110], lm, 0).map(([x, y]) => [+x.toFixed(4), +y.toFixed(4)]);
    expect(pts).toEqual([
      [20, 40],
      [50, 40],
      [35, 70],
      [25, 90],
      [45, 90],
    ]);
    const inter = new Float32Array([0.2, 0.3, 0.8, 0.3, 0.5, 0.6, 0.3, 0.8, 0.7, 0.8]);
    expect(onetLandmarks([10, 10, 60, 110], inter, 0, { reg: 'x1y1x2y2', landmarks: 'xy' }).map(([x, y]) => [+x.toFixed(4), +y.toFixed(4)])).toEqual(pts);
  });

  it('O-Net drops nested boxes with min-overlap NMS', () => {
    const lm = new Float32Array(30).fill(0.5);
    const reg = new Float32Array(12);
    reg.set([0.1, 0, 0, 0], 8); // third box: x1 moves by 0.1 * 40
    const out = onetFinish(boxes, new Float32Array([0.95, 0.9, 0.8]), reg, lm);
    expect(out.map((d) => d.box.map((v) => +v.toFixed(4)))).toEqual([
      [10, 10, 60, 110],
      [204, 200, 240, 240],
    ]);
    // Landmarks come from the fed box, before regression: centre of [200, 200, 240, 240].
    expect(out[1]!.landmarks[0]).toEqual([220, 220]);
  });

  it('builds a crop batch, zero-filled outside the frame', () => {
    const frame: RgbImage = { width: 40, height: 40, data: new Uint8Array(40 * 40 * 3).fill(200) };
    const crops = cropBatch(
      frame,
      [
        { box: [0, 0, 40, 40], score: 1, landmarks: [] },
        { box: [-40, 0, 40, 80], score: 1, landmarks: [] },
      ],
      24,
    );
    expect(crops.length).toBe(2 * 24 * 24 * 3);
    expect(crops.subarray(0, 24 * 24 * 3).every((v) => v === 200)).toBe(true);
    // Second crop: left half and bottom half lie outside the frame.
    const at = (x: number, y: number) => crops[24 * 24 * 3 + (y * 24 + x) * 3];
    expect([at(0, 0), at(11, 0), at(12, 0), at(23, 11), at(23, 12)]).toEqual([0, 0, 200, 200, 0]);
  });
});
