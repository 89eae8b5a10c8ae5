import { readdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaceEngine } from '../../src/engine/index.js';
import { largestFace, OPEN_GATE } from '../../src/engine/largest.js';
import type { FaceEngine } from '../../src/engine/types.js';
import { decodeImage } from '../../src/ingest/still.js';
import { cosine } from '../../src/eval/lfw.js';
import { meanOfPair } from '../../src/match/cosine.js';
import { flipHorizontal } from '../../src/vision/image.js';
import { iou } from '../../src/vision/nms.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { requireEngines, testEngineConfig } from './engines.js';

const knn = (...p: string[]) => dataPath('identity/fr-examples/examples/knn_examples', ...p);

describe.skipIf(!hasTestData)('face engine (mtcnn + mobilefacenet)', { timeout: 120_000 }, () => {
  let engine: FaceEngine;
  beforeAll(async () => {
    requireEngines();
    engine = await createFaceEngine(testEngineConfig({ detector: { kind: 'mtcnn' } }));
  }, 120_000);
  afterAll(() => engine?.close());

  it('has ids, a provider and a measured threshold', () => {
    expect(engine.embedderId).toMatch(/^mobilefacenet@[0-9a-f]{12}$/);
    expect(engine.detectorId).toMatch(/^mtcnn@/);
    expect(engine.provider).toBe('cpu');
    expect(engine.defaultThreshold).toBeGreaterThan(0.2);
    expect(engine.defaultThreshold).toBeLessThan(0.7);
  });

  it('batched detection equals per-frame detection (frames of equal and different sizes)', async () => {
    const a = await decodeImage(dataPath('lfw/lfw-deepfunneled/Aaron_Peirsol/Aaron_Peirsol_0001.jpg'));
    const b = await decodeImage(dataPath('lfw/lfw-deepfunneled/Aaron_Peirsol/Aaron_Peirsol_0003.jpg'));
    const c = await decodeImage(knn('test/obama_and_biden.jpg'));
    const batched = await engine.detect([a, b, c, a]);
    const single = [await engine.detect([a]), await engine.detect([b]), await engine.detect([c]), await engine.detect([a])].map((x) => x[0]);
    expect(batched.map((d) => d.length)).toEqual(single.map((d) => d!.length));
    expect(batched[2]!.length).toBeGreaterThanOrEqual(2);
    batched.forEach((ds, i) =>
      ds.forEach((d, k) => {
        const s = single[i]![k]!;
        expect(iou(d.box, s.box)).toBeGreaterThan(0.999);
        expect(d.score).toBeCloseTo(s.score, 4);
        d.landmarks.forEach((p, j) => expect(Math.hypot(p[0] - s.landmarks[j]![0], p[1] - s.landmarks[j]![1])).toBeLessThan(0.05));
      }),
    );
  });

  it('analyze gates faces by quality and embeds the rest (unit length)', async () => {
    const img = await decodeImage(knn('test/obama_and_biden.jpg'));
    const [open] = await engine.analyze([img], OPEN_GATE);
    expect(open!.rejected).toHaveLength(0);
    expect(open!.faces.length).toBeGreaterThanOrEqual(2);
    for (const f of open!.faces) {
      expect(f.embedding.length).toBe(192);
      expect(Math.hypot(...f.embedding)).toBeCloseTo(1, 5);
      expect(f.aligned.width).toBe(112);
    }
    const biggest = Math.max(...open!.faces.map((f) => f.quality.size));
    const [gated] = await engine.analyze([img], { ...OPEN_GATE, minSize: biggest + 1 });
    expect(gated!.faces).toHaveLength(0);
    expect(gated!.rejected.map((r) => r.reason)).toEqual(open!.faces.map(() => 'small'));
    // embedAligned on the aligned crops gives the same embeddings.
    const again = await engine.embedAligned(open!.faces.map((f) => f.aligned));
    again.forEach((e, i) => expect(cosine(e, open!.faces[i]!.embedding)).toBeGreaterThan(0.9999));
  });

  it('identifies known people and leaves strangers below the threshold', async () => {
    const people = readdirSync(knn('train')).sort();
    const bank: { name: string; e: Float32Array }[] = [];
    for (const name of people) {
      const first = readdirSync(knn('train', name)).sort()[0]!;
      bank.push({ name, e: (await largestFace(engine, await decodeImage(knn('train', name, first)))).embedding });
    }
    const identify = (e: Float32Array) => {
      const s = bank.map((p) => ({ name: p.name, sim: cosine(p.e, e) })).sort((x, y) => y.sim - x.sim)[0]!;
      return s.sim >= engine.defaultThreshold ? s.name : null;
    };
    // test/ holds obama1, alex_lacamoire1, kit_with_rose (Kit Harington and Rose Leslie), johnsnow_test1 (Kit
    // Harington as Jon Snow) and obama_and_biden.
    const one = async (f: string) => identify((await largestFace(engine, await decodeImage(knn('test', f)))).embedding);
    expect(await one('obama1.jpg')).toBe('obama');
    expect(await one('alex_lacamoire1.jpg')).toBe('alex_lacamoire');
    expect(await one('johnsnow_test1.jpg')).toBe('kit_harington');
    const [duo] = await engine.analyze([await decodeImage(knn('test/obama_and_biden.jpg'))], { ...OPEN_GATE, minSize: 60 });
    const names = duo!.faces.map((f) => identify(f.embedding));
    expect(names).toContain('obama');
    expect(names).toContain('biden');
    const [kr] = await engine.analyze([await decodeImage(knn('test/kit_with_rose.jpg'))], { ...OPEN_GATE, minSize: 40 });
    expect(kr!.faces.map((f) => identify(f.embedding)).sort()).toEqual(expect.arrayContaining(['kit_harington', 'rose_leslie']));
    // Strangers: LFW people who are not in the bank.
    for (const f of ['Aaron_Peirsol/Aaron_Peirsol_0001.jpg', 'Abdullah_Gul/Abdullah_Gul_0001.jpg', 'Adrien_Brody/Adrien_Brody_0002.jpg']) {
      expect(identify((await largestFace(engine, await decodeImage(dataPath('lfw/lfw-deepfunneled', f)))).embedding)).toBeNull();
    }
  });

  it('flip test-time augmentation gives the unit mean of the crop and its mirror, as enrolment stores a face', async () => {
    const face = await largestFace(engine, await decodeImage(knn('test', 'obama1.jpg')));
    const flipped = await createFaceEngine(testEngineConfig({ detector: { kind: 'mtcnn' }, embedder: { flip: true } }));
    try {
      const [both] = await flipped.embedAligned([face.aligned]);
      const [plain, mirror] = await engine.embedAligned([face.aligned, flipHorizontal(face.aligned)]);
      const expected = meanOfPair(plain!, mirror!);
      expect(cosine(both!, expected)).toBeGreaterThan(0.99999);
      // The mirror is a different look: the augmented embedding is not the plain one.
      expect(cosine(both!, plain!)).toBeLessThan(0.999);
    } finally {
      await flipped.close();
    }
  });
});
