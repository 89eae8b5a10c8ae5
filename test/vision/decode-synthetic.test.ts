/** Decoder arithmetic on hand-made outputs (the real-model checks are in decode.test.ts). */
import { describe, expect, it } from 'vitest';
import { decodeScrfd } from '../../src/vision/decode/scrfd.js';
import { decodeYunet } from '../../src/vision/decode/yunet.js';
import { decodeRetinaface, retinafacePriors } from '../../src/vision/decode/retinaface.js';
import type { TensorOut } from '../../src/vision/decode/common.js';
import { FacegateError } from '../../src/util/errors.js';

const zeros = (rows: number, cols: number, batch?: number): TensorOut => ({
  data: new Float32Array((batch ?? 1) * rows * cols),
  dims: batch === undefined ? [rows, cols] : [batch, rows, cols],
});

const round = (v: number[]) => v.map((x) => +x.toFixed(4));

describe('decodeScrfd', () => {
  // 64x64 input: 8x8, 4x4 and 2x2 cells, 2 anchors each = 128, 32, 8 rows. Names shuffled on purpose.
  const o: Record<string, TensorOut> = {};
  [
    [128, 'a'],
    [32, 'b'],
    [8, 'c'],
  ].forEach(([rows, n]) => {
    o[`${n}kps`] = zeros(rows as number, 10, 2);
    o[`${n}box`] = zeros(rows as number, 4, 2);
    o[`${n}score`] = zeros(rows as number, 1, 2);
  });
  // Batch item 1, stride 16, cell (x 2, y 1), anchor 1: row (1 * 4 + 2) * 2 + 1 = 13; anchor point (32, 16).
  o.bscore!.data[32 + 13] = 0.9;
  o.bbox!.data.set([1, 0.5, 2, 1], (32 + 13) * 4);
  o.bkps!.data.set([0.5, 0.5, 1, 0.5, 0.75, 1, 0.5, 1.5, 1, 1.5], (32 + 13) * 10);

  it('decodes distances and keypoints in stride units from the anchor point', () => {
    expect(decodeScrfd(o, 64, 64, 0.5, 0)).toEqual([]);
    const [d, ...rest] = decodeScrfd(o, 64, 64, 0.5, 1);
    expect(rest).toEqual([]);
    expect(d!.score).toBeCloseTo(0.9, 6);
    expect(d!.box).toEqual([16, 8, 64, 32]);
    expect(d!.landmarks).toEqual([
      [40, 24],
      [48, 24],
      [44, 32],
      [40, 40],
      [48, 40],
    ]);
  });

  it('says which output is missing', () => {
    const { akps: _, ...partial } = o;
    expect(() => decodeScrfd(partial, 64, 64, 0.5)).toThrow(FacegateError);
  });
});

describe('decodeYunet', () => {
  const o: Record<string, TensorOut> = {};
  for (const [s, rows] of [
    [8, 64],
    [16, 16],
    [32, 4],
  ]) {
    o[`cls_${s}`] = zeros(rows!, 1, 1);
    o[`obj_${s}`] = zeros(rows!, 1, 1);
    o[`bbox_${s}`] = zeros(rows!, 4, 1);
    o[`kps_${s}`] = zeros(rows!, 10, 1);
  }
  // Stride 32, cell (1, 1) = row 3; score sqrt(0.81 * 1.2 clamped to 1) = 0.9.
  o.cls_32!.data[3] = 0.81;
  o.obj_32!.data[3] = 1.2;
  o.bbox_32!.data.set([0.5, 0.5, 0, Math.log(2)], 12);
  o.kps_32!.data.set([0, 0, 1, 0, 0.5, 0.5, 0, 1, 1, 1], 30);

  it('decodes centre offsets, exp sizes and keypoints from the cell corner', () => {
    const [d, ...rest] = decodeYunet(o, 64, 64, 0.5);
    expect(rest).toEqual([]);
    expect(d!.score).toBeCloseTo(0.9, 6);
    // Centre (1.5 * 32, 1.5 * 32), size 32 x 64.
    expect(round(d!.box)).toEqual([32, 16, 64, 80]);
    expect(d!.landmarks).toEqual([
      [32, 32],
      [64, 32],
      [48, 48],
      [32, 64],
      [64, 64],
    ]);
  });
});

describe('decodeRetinaface', () => {
  // 32x32 input: 4x4x2 + 2x2x2 + 1x1x2 = 42 priors.
  it('lays out priors by level, cell, then min size', () => {
    const p = retinafacePriors(32, 32);
    expect(p.length / 4).toBe(42);
    expect(Array.from(p.subarray(0, 8))).toEqual([4, 4, 16, 16, 4, 4, 32, 32]);
    expect(Array.from(p.subarray(2 * 4, 2 * 4 + 4))).toEqual([12, 4, 16, 16]);
    expect(Array.from(p.subarray(41 * 4))).toEqual([16, 16, 512, 512]);
  });

  it('applies the variances and reads logits when told', () => {
    const o = { loc: zeros(42, 4, 1), conf: zeros(42, 2, 1), lmk: zeros(42, 10, 1) };
    // Prior 41 = (16, 16, 512, 512). Logits (0, ln 9) → 0.9.
    o.conf.data.set([0, Math.log(9)], 82);
    o.loc.data.set([0.1, 0, 0, 1], 41 * 4);
    o.lmk.data.set([1, -1, 0, 0, 0, 0, 0, 0, 0, 0], 41 * 10);
    // Read as probabilities, the face column is taken as is: only prior 41 passes, with score ln 9.
    expect(decodeRetinaface(o, 32, 32, 0.5).map((x) => +x.score.toFixed(4))).toEqual([+Math.log(9).toFixed(4)]);
    // As logits, the zero rows score sigmoid(0) = 0.5; keep only the 0.9 one.
    const [d, ...rest] = decodeRetinaface(o, 32, 32, 0.5, 0, 'logits').filter((x) => x.score > 0.6);
    expect(rest).toEqual([]);
    expect(d!.score).toBeCloseTo(0.9, 6);
    // cx = 16 + 0.1 * 0.1 * 512 = 21.12; h = 512 * exp(0.2).
    const h = 512 * Math.exp(0.2);
    expect(round(d!.box)).toEqual(round([21.12 - 256, 16 - h / 2, 21.12 + 256, 16 + h / 2]));
    expect(round(d!.landmarks[0]!)).toEqual([16 + 51.2, 16 - 51.2]);
    expect(round(d!.landmarks[1]!)).toEqual([16, 16]);
  });
});
