/** Bring-your-own detectors (SCRFD, YuNet, RetinaFace ONNX from the shared data) through the same engine. */
import { afterAll, describe, expect, it } from 'vitest';
import { createFaceEngine } from '../../src/engine/index.js';
import type { FaceEngine } from '../../src/engine/types.js';
import { decodeImage } from '../../src/ingest/still.js';
import { cosine } from '../../src/eval/lfw.js';
import { largestFace } from '../../src/engine/largest.js';
import { iou } from '../../src/vision/nms.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { requireEngines, testEngineConfig } from './engines.js';

const models = [
  ['scrfd', 'models/scrfd/scrfd_500m_bnkps.onnx'],
  ['scrfd', 'models/scrfd/scrfd_2.5g_bnkps.onnx'], // fixed batch 1: looped
  ['yunet', 'models/yunet/yunet_n_dynamic.onnx'],
  ['retinaface', 'models/retinaface/retinaface_mbnet0.25.onnx'],
] as const;

describe.skipIf(!hasTestData)('bring-your-own detectors', { timeout: 120_000 }, () => {
  const engines: FaceEngine[] = [];
  afterAll(() => Promise.all(engines.map((e) => e.close())));

  it.each(models)('%s %s finds the same face as mtcnn, batched like per-frame', async (kind, file) => {
    requireEngines();
    const img = await decodeImage(dataPath('identity/fr-examples/examples/knn_examples/train/obama/obama.jpg'));
    const small = await decodeImage(dataPath('lfw/lfw-deepfunneled/Aaron_Peirsol/Aaron_Peirsol_0001.jpg'));
    const ref = await createFaceEngine(testEngineConfig());
    const byo = await createFaceEngine(testEngineConfig({ detector: { kind, model: dataPath(file), inputSize: 640 } }));
    engines.push(ref, byo);
    expect(byo.detectorId).toMatch(new RegExp(`^${kind}:`));
    const a = await largestFace(ref, img);
    const b = await largestFace(byo, img);
    expect(iou(a.box, b.box)).toBeGreaterThan(0.5);
    b.landmarks.forEach((p, i) => expect(Math.hypot(p[0] - a.landmarks[i][0], p[1] - a.landmarks[i][1])).toBeLessThan(0.08 * (a.box[2] - a.box[0])));
    expect(cosine(a.embedding, b.embedding)).toBeGreaterThan(0.8);
    const batched = await byo.detect([img, small]);
    const single = [(await byo.detect([img]))[0], (await byo.detect([small]))[0]];
    expect(batched.map((d) => d.length)).toEqual(single.map((d) => d.length));
    batched.forEach((ds, i) => ds.forEach((d, k) => expect(iou(d.box, single[i][k].box)).toBeGreaterThan(0.99)));
  });
});
