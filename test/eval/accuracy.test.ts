/**
 * Regression guards on real data through the full pipeline, for the default detector (auto: YuNet-n with O-Net
 * landmarks, which set-up obtains; CI takes it from FACEGATE_MODEL_MIRROR) and for MTCNN, the offline fallback.
 * Floors sit below measured values (see the numbers in the comments) so noise does not trip them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaceEngine } from '../../src/engine/index.js';
import type { FaceEngine } from '../../src/engine/types.js';
import { evalDetection, evalLfw } from '../../src/eval/run.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { requireEngines, testEngineConfig } from '../engine/engines.js';

const cases = [
  // Measured 2026-12-05: LFW fold 1 99.67 %; WIDER first 30 images AP50 74.4 all / 95.4 >= 32 px.
  { name: 'default detector (YuNet-n + O-Net landmarks)', detector: {}, id: /^yunet:yunet-n@104ee26c71d5\+onet$/, lfw: 0.985, ap: 0.65, ap32: 0.9 },
  // Measured 2026-11-23: fold 1 0.992-0.993; 30 images AP50 0.481 all (faces under 32 px not looked for), >= 0.8 at >= 32 px.
  { name: 'MTCNN', detector: { kind: 'mtcnn' }, id: /^mtcnn@/, lfw: 0.98, ap: 0.45, ap32: 0.8 },
];

describe.skipIf(!hasTestData).each(cases)('accuracy of $name + MobileFaceNet', { timeout: 900_000 }, (c) => {
  let engine: FaceEngine;
  let lowScore: FaceEngine;
  beforeAll(async () => {
    requireEngines();
    engine = await createFaceEngine(testEngineConfig({ detector: c.detector }));
    // AP needs the whole precision/recall curve: keep low-scoring detections.
    lowScore = await createFaceEngine(testEngineConfig({ detector: { ...c.detector, scoreThreshold: 0.05 } }));
  }, 120_000);
  afterAll(() => Promise.all([engine?.close(), lowScore?.close()]));

  it('runs the detector it names', () => {
    expect(engine.detectorId).toMatch(c.id);
  });

  it(`LFW fold 1 (600 pairs): accuracy >= ${c.lfw}`, async () => {
    const r = await evalLfw(engine, dataPath('lfw'), { limitFolds: 1 });
    expect(r.pairs).toBe(600);
    expect(r.accuracy).toBeGreaterThanOrEqual(c.lfw);
    expect(r.tarAtFar1e3).toBeGreaterThan(0.9);
  });

  it('detection AP50 on the first 30 WIDER-val images', async () => {
    const r = await evalDetection(lowScore, dataPath('detection/wider-val-200'), { limit: 30 });
    expect(r.images).toBe(30);
    expect(r.ap50Min32).toBeGreaterThanOrEqual(c.ap32);
    expect(r.ap50).toBeGreaterThanOrEqual(c.ap);
  });
});
