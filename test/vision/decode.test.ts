/**
 * The three detector decoders against the real reference models on real photos with hand-drawn boxes
 * (dlib_faces testing set, 25 faces, with dlib 68-point landmarks) and WIDER FACE validation images.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { dataPath, hasTestData } from '../helpers/data.js';
import { detect, dlibTesting, loadRgb, runDetector, widerLabels, type Decoder } from './fixtures.js';
import { iou } from '../../src/vision/nms.js';
import { decodeScrfd, scrfdPreprocess } from '../../src/vision/decode/scrfd.js';
import { decodeYunet, yunetPreprocess } from '../../src/vision/decode/yunet.js';
import { decodeRetinaface, retinafacePreprocess } from '../../src/vision/decode/retinaface.js';
import type { DetectorPreprocess } from '../../src/vision/decode/common.js';
import type { Box, RgbImage } from '../../src/vision/types.js';

interface Case {
  file: string;
  pre: DetectorPreprocess;
  decode: Decoder;
  /** Input size used (fixed models need theirs; dynamic ones get a non-square size). */
  w: number;
  h: number;
}

const cases: Case[] = [
  { file: 'scrfd/scrfd_500m_kps.onnx', pre: scrfdPreprocess, decode: decodeScrfd, w: 640, h: 640 },
  { file: 'scrfd/scrfd_2.5g_bnkps.onnx', pre: scrfdPreprocess, decode: decodeScrfd, w: 640, h: 480 },
  { file: 'yunet/yunet_n_640_640.onnx', pre: yunetPreprocess, decode: decodeYunet, w: 640, h: 640 },
  { file: 'yunet/yunet_s_dynamic.onnx', pre: yunetPreprocess, decode: decodeYunet, w: 640, h: 480 },
  { file: 'retinaface/retinaface_mbnet0.25.onnx', pre: retinafacePreprocess, decode: decodeRetinaface, w: 640, h: 480 },
];

const opts = { intraOpNumThreads: 1, interOpNumThreads: 1 };

describe.skipIf(!hasTestData)('detector decoders on dlib_faces', () => {
  let sets: ReturnType<typeof dlibTesting>;
  let imgs: RgbImage[];
  beforeAll(async () => {
    sets = dlibTesting();
    imgs = await Promise.all(sets.map((s) => loadRgb(s.file)));
  }, 60_000);

  for (const c of cases) {
    it(`${c.file}: boxes match ground truth and landmarks are plausible`, async () => {
      const session = await ort.InferenceSession.create(dataPath('models', c.file), opts);
      let total = 0,
        matched = 0;
      const errors: number[] = [];
      for (let i = 0; i < sets.length; i++) {
        const dets = await detect(session, imgs[i]!, c.w, c.h, c.pre, c.decode, 0.5);
        for (const g of sets[i]!.faces) {
          total++;
          const best = dets.reduce((a, d) => (iou(d.box, g.box) > iou(a?.box ?? [0, 0, 0, 0], g.box) ? d : a), dets[0]);
          if (!best || iou(best.box, g.box) <= 0.5) continue;
          matched++;
          const [le, re, nose, lm, rm] = best.landmarks;
          const [x1, y1, x2, y2] = best.box;
          for (const [x, y] of best.landmarks) {
            expect(x > x1 && x < x2 && y > y1 && y < y2).toBe(true);
          }
          expect(le![0]).toBeLessThan(re![0]);
          expect(lm![0]).toBeLessThan(rm![0]);
          expect(Math.max(le![1], re![1])).toBeLessThan(Math.min(lm![1], rm![1]));
          expect(nose![1]).toBeGreaterThan(Math.min(le![1], re![1]));
          expect(nose![1]).toBeLessThan(Math.max(lm![1], rm![1]));
          // Mean distance to the dlib-derived 5 points, as a fraction of the ground-truth box width.
          const gl = g.landmarks!;
          const e = best.landmarks.reduce((s, p, k) => s + Math.hypot(p[0] - gl[k]![0], p[1] - gl[k]![1]), 0) / 5;
          errors.push(e / (g.box[2] - g.box[0]));
        }
      }
      expect(total).toBe(25);
      expect(matched).toBeGreaterThanOrEqual(23);
      errors.sort((a, b) => a - b);
      expect(errors[errors.length >> 1]).toBeLessThan(0.07);
      expect(errors[errors.length - 1]).toBeLessThan(0.12);
    }, 60_000);
  }
});

describe.skipIf(!hasTestData)('detector preprocessing on WIDER FACE', () => {
  let items: { img: RgbImage; boxes: Box[] }[];
  beforeAll(async () => {
    const labels = [...widerLabels()].slice(0, 40);
    items = await Promise.all(labels.map(async ([p, boxes]) => ({ img: await loadRgb(dataPath('detection/wider-val-200/images', p)), boxes })));
  }, 60_000);

  /** Ground-truth faces of at least 32 px matched one-to-one at IoU >= 0.5. */
  async function recall(c: Case, channelOrder: 'rgb' | 'bgr') {
    const session = await ort.InferenceSession.create(dataPath('models', c.file), opts);
    let hit = 0;
    for (const { img, boxes } of items) {
      const dets = await detect(session, img, c.w, c.h, { ...c.pre, channelOrder }, c.decode, 0.5);
      const used = new Set<number>();
      for (const d of dets) {
        let bi = -1,
          bv = 0.5;
        boxes.forEach((g, j) => {
          const v = iou(d.box, g);
          if (v >= bv && !used.has(j)) [bv, bi] = [v, j];
        });
        if (bi < 0) continue;
        used.add(bi);
        if (Math.min(boxes[bi]![2] - boxes[bi]![0], boxes[bi]![3] - boxes[bi]![1]) >= 32) hit++;
      }
    }
    return hit;
  }

  for (const c of [cases[0], cases[2], cases[4]]) {
    it(`${c!.file}: the declared channel order (${c!.pre.channelOrder}) finds at least as many faces as the other`, async () => {
      const other = c!.pre.channelOrder === 'rgb' ? 'bgr' : 'rgb';
      const [mine, theirs] = [await recall(c!, c!.pre.channelOrder), await recall(c!, other)];
      const total = items.reduce((s, x) => s + x.boxes.filter((b) => Math.min(b[2] - b[0], b[3] - b[1]) >= 32).length, 0);
      expect(mine).toBeGreaterThanOrEqual(theirs);
      expect(mine / total).toBeGreaterThan(0.8);
    }, 120_000);
  }

  it('RetinaFace scores are softmaxed in the graph and YuNet cls/obj are probabilities', async () => {
    const img = items[0]!.img;
    const rf = await ort.InferenceSession.create(dataPath('models', cases[4]!.file), opts);
    const { outputs: ro } = await runDetector(rf, img, 640, 480, retinafacePreprocess);
    const conf = Object.values(ro).find((t) => t.dims[t.dims.length - 1] === 2)!;
    for (let i = 0; i < conf.data.length; i += 2) expect(conf.data[i]! + conf.data[i + 1]!).toBeCloseTo(1, 4);
    const yn = await ort.InferenceSession.create(dataPath('models', cases[2]!.file), opts);
    const { outputs: yo } = await runDetector(yn, img, 640, 640, yunetPreprocess);
    // Every stride's cls and obj outputs are there (a renamed output would otherwise skip the check).
    const probs = Object.keys(yo)
      .filter((name) => /^(cls|obj)_/.test(name))
      .sort();
    expect(probs).toEqual(['cls_16', 'cls_32', 'cls_8', 'obj_16', 'obj_32', 'obj_8']);
    for (const name of probs) expect(yo[name]!.data.every((v) => v >= 0 && v <= 1)).toBe(true);
  }, 60_000);
});
