/**
 * MTCNN stage maths driven by the real generated nets (engines/, built by `facegate models`) on the dlib_faces
 * testing photos: boxes must match the hand-drawn ground truth and landmarks the dlib 68-point-derived ones.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { hasTestData, repoRoot } from '../helpers/data.js';
import { isStrict } from '../helpers/prereqs.mjs';
import { dlibTesting, loadRgb } from './fixtures.js';
import { resizeBilinear } from '../../src/vision/image.js';
import { iou } from '../../src/vision/nms.js';
import {
  cropBatch,
  MTCNN_DEFAULTS,
  MTCNN_LAYOUT,
  ONET_SIZE,
  onetFinish,
  pnetCandidates,
  pnetMerge,
  pyramid,
  RNET_SIZE,
  rnetRefine,
  type MtcnnCandidate,
  type MtcnnLayout,
} from '../../src/vision/mtcnn.js';
import type { Detection, RgbImage } from '../../src/vision/types.js';

const engines = path.join(repoRoot, 'engines');
const hasEngines = ['pnet', 'rnet', 'onet'].every((n) => existsSync(path.join(engines, `mtcnn-${n}.onnx`)));
if (!hasEngines) {
  const why = `${engines}/mtcnn-*.onnx not found: run npm run setup`;
  if (isStrict()) throw new Error(`[facegate tests] ${why}`);
  console.warn(`[facegate tests] SKIPPED MTCNN stages with the generated nets: ${why}`);
}

type Nets = Record<'pnet' | 'rnet' | 'onet', ort.InferenceSession>;

async function run(s: ort.InferenceSession, data: Uint8Array, dims: number[]) {
  const out = await s.run({ [s.inputNames[0]!]: new ort.Tensor('uint8', data, dims) });
  const get = (n: string) => ({ data: out[n]!.data as Float32Array, dims: out[n]!.dims });
  return { prob: get('prob'), reg: get('reg'), landmarks: out.landmarks ? get('landmarks') : undefined };
}

async function mtcnn(nets: Nets, img: RgbImage, layout: MtcnnLayout, minFace = 20): Promise<Detection[]> {
  const { width: W, height: H } = img;
  const levels: MtcnnCandidate[][] = [];
  for (const lv of pyramid(W, H, minFace)) {
    const r = resizeBilinear(img, lv.width, lv.height);
    const o = await run(nets.pnet, r.data, [1, lv.height, lv.width, 3]);
    const [, oh, ow] = o.prob.dims as [number, number, number];
    levels.push(pnetCandidates(o.prob.data, o.reg.data, ow, oh, lv, W, H, MTCNN_DEFAULTS.thresholds[0], 0, layout));
  }
  let boxes = pnetMerge(levels, W, H);
  if (!boxes.length) return [];
  const r = await run(nets.rnet, cropBatch(img, boxes, RNET_SIZE), [boxes.length, RNET_SIZE, RNET_SIZE, 3]);
  boxes = rnetRefine(boxes, r.prob.data, r.reg.data, W, H, undefined, undefined, layout);
  if (!boxes.length) return [];
  const o = await run(nets.onet, cropBatch(img, boxes, ONET_SIZE), [boxes.length, ONET_SIZE, ONET_SIZE, 3]);
  return onetFinish(boxes, o.prob.data, o.reg.data, o.landmarks!.data, undefined, undefined, layout);
}

describe.skipIf(!hasTestData || !hasEngines)('MTCNN stages with the generated nets', () => {
  let nets: Nets;
  let sets: ReturnType<typeof dlibTesting>;
  let imgs: RgbImage[];
  beforeAll(async () => {
    const open = (n: string) => ort.InferenceSession.create(path.join(engines, `mtcnn-${n}.onnx`), { intraOpNumThreads: 1 });
    nets = { pnet: await open('pnet'), rnet: await open('rnet'), onet: await open('onet') };
    sets = dlibTesting();
    imgs = await Promise.all(sets.map((s) => loadRgb(s.file)));
  }, 60_000);

  async function score(layout: MtcnnLayout) {
    const ious: number[] = [];
    const lmErr: number[] = [];
    let bad = 0;
    for (let i = 0; i < sets.length; i++) {
      const dets = await mtcnn(nets, imgs[i]!, layout);
      for (const g of sets[i]!.faces) {
        let best: Detection | undefined;
        for (const d of dets) if (!best || iou(d.box, g.box) > iou(best.box, g.box)) best = d;
        const v = best ? iou(best.box, g.box) : 0;
        ious.push(v);
        if (!best || v <= 0.4) continue;
        const [le, re, , lm, rm] = best.landmarks;
        if (!(le![0] < re![0] && lm![0] < rm![0] && Math.max(le![1], re![1]) < Math.min(lm![1], rm![1]))) bad++;
        const gl = g.landmarks!;
        lmErr.push(best.landmarks.reduce((s, p, k) => s + Math.hypot(p[0] - gl[k]![0], p[1] - gl[k]![1]), 0) / 5 / (g.box[2] - g.box[0]));
      }
    }
    ious.sort((a, b) => a - b);
    lmErr.sort((a, b) => a - b);
    return { ious, lmErr, bad };
  }

  it('finds the ground-truth faces with the default layout, with sane landmarks', async () => {
    const { ious, lmErr, bad } = await score(MTCNN_LAYOUT);
    expect(ious.length).toBe(25);
    expect(ious.filter((v) => v > 0.5).length).toBeGreaterThanOrEqual(23);
    expect(bad).toBe(0);
    expect(lmErr[lmErr.length >> 1]).toBeLessThan(0.07);
  }, 120_000);

  it('the default regression layout fits the boxes better than the swapped one', async () => {
    const mine = await score(MTCNN_LAYOUT);
    const swapped = await score({ ...MTCNN_LAYOUT, reg: MTCNN_LAYOUT.reg === 'x1y1x2y2' ? 'y1x1y2x2' : 'x1y1x2y2' });
    const mean = (a: number[]) => a.reduce((s, v) => s + v, 0) / a.length;
    expect(mean(mine.ious)).toBeGreaterThan(mean(swapped.ious));
  }, 120_000);
});
