/**
 * Bring-your-own models through the same engine: SCRFD, YuNet and RetinaFace ONNX from the shared data, and an
 * ArcFace-style embedder (float NCHW input, (x - 127.5) / 127.5) built here from the npm MobileFaceNet.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tfliteToOnnx } from '../../src/convert/index.js';
import { UNMEASURED_THRESHOLD } from '../../src/match/thresholds.js';
import { createFaceEngine } from '../../src/engine/index.js';
import type { FaceEngine } from '../../src/engine/types.js';
import { decodeImage } from '../../src/ingest/still.js';
import { cosine } from '../../src/eval/lfw.js';
import { largestFace } from '../../src/engine/largest.js';
import { iou } from '../../src/vision/nms.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { modelSpec, tfliteBytes } from '../helpers/models.js';
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
    b.landmarks.forEach((p, i) => expect(Math.hypot(p[0] - a.landmarks[i]![0], p[1] - a.landmarks[i]![1])).toBeLessThan(0.08 * (a.box[2] - a.box[0])));
    expect(cosine(a.embedding, b.embedding)).toBeGreaterThan(0.8);
    const batched = await byo.detect([img, small]);
    const single = [(await byo.detect([img]))[0], (await byo.detect([small]))[0]];
    expect(batched.map((d) => d.length)).toEqual(single.map((d) => d!.length));
    batched.forEach((ds, i) => ds.forEach((d, k) => expect(iou(d.box, single[i]![k]!.box)).toBeGreaterThan(0.99)));
  });
});

describe.skipIf(!hasTestData)('bring-your-own ArcFace-style embedder', { timeout: 120_000 }, () => {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'facegate-byo-'));
  const engines: FaceEngine[] = [];
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
    rmSync(tmp, { recursive: true, force: true });
  });

  it('reads the float NCHW layout from the model, feeds (x - 127.5) / 127.5 and embeds like the default', async () => {
    requireEngines();
    // MobileFaceNet expects (x - 127.5) / 128; fed (x - 127.5) / 127.5 it needs a further division by 128 / 127.5.
    const mfn = modelSpec('mobilefacenet');
    const tflite = tfliteBytes('mobilefacenet');
    const file = path.join(tmp, 'w600k_like.onnx');
    const input = { ...mfn.input, name: 'input.1', layout: 'float-nchw' as const, mean: 0, std: 128 / 127.5 };
    writeFileSync(file, tfliteToOnnx(tflite, input, 'byo', (c) => mfn.outputs(c), { producer: 'facegate-test', version: '0' }).onnx);
    const ref = await createFaceEngine(testEngineConfig());
    const byo = await createFaceEngine(testEngineConfig({ embedder: { kind: 'arcface', model: file } }));
    engines.push(ref, byo);
    expect(byo.embedderId).toMatch(/^w600k_like@[0-9a-f]{12}$/);
    // Not measured on LFW: the documented fallback threshold, to be replaced by match.threshold.
    expect(byo.defaultThreshold).toBe(UNMEASURED_THRESHOLD);
    const knn = (f: string) => dataPath('identity/fr-examples/examples/knn_examples', f);
    const images = await Promise.all(['train/obama/obama.jpg', 'test/obama1.jpg', 'train/biden/biden.jpg'].map((f) => decodeImage(knn(f))));
    const a = await Promise.all(images.map((img) => largestFace(ref, img)));
    const b = await Promise.all(images.map((img) => largestFace(byo, img)));
    b.forEach((f, i) => {
      expect(f.embedding).toHaveLength(192);
      expect(cosine(f.embedding, a[i]!.embedding)).toBeGreaterThan(0.9999);
    });
    // Same person above the default model's threshold, different people below it.
    expect(cosine(b[0]!.embedding, b[1]!.embedding)).toBeGreaterThan(ref.defaultThreshold);
    expect(cosine(b[0]!.embedding, b[2]!.embedding)).toBeLessThan(ref.defaultThreshold);
    // embedAligned on the stored crops gives the same vectors.
    const again = await byo.embedAligned(a.map((f) => f.aligned));
    again.forEach((e, i) => expect(cosine(e, b[i]!.embedding)).toBeGreaterThan(0.9999));
  });
});
