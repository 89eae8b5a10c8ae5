/**
 * The default detector: `auto` picks the YuNet-n that `facegate models` verified into engines/, and MTCNN
 * when it is absent or altered; YuNet runs each frame at its own shape and batches frames of equal shape.
 */
import { copyFileSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chooseDetector } from '../../src/engine/detectors.js';
import { createFaceEngine } from '../../src/engine/index.js';
import type { FaceEngine } from '../../src/engine/types.js';
import { decodeImage } from '../../src/ingest/still.js';
import { YUNET_N } from '../../src/models/pinned.js';
import { detectorSchema } from '../../src/config/schema.js';
import { iou } from '../../src/vision/nms.js';
import type { Box, RgbImage } from '../../src/vision/types.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { enginesDir, requireEngines, testEngineConfig } from './engines.js';

const auto = detectorSchema.parse({});

/** An engines folder with the npm models only (links), optionally with a YuNet file of our choosing. */
function enginesWithout(yunet?: Buffer): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'facegate-engines-'));
  for (const f of ['manifest.json', 'mobilefacenet.onnx', 'mtcnn-pnet.onnx', 'mtcnn-rnet.onnx', 'mtcnn-onet.onnx'])
    symlinkSync(path.join(enginesDir, f), path.join(dir, f));
  if (yunet) writeFileSync(path.join(dir, YUNET_N.file), yunet);
  return dir;
}

/** Half-size copy (nearest), to make frames of another shape from a real photo. */
function half(img: RgbImage): RgbImage {
  const w = img.width >> 1,
    h = img.height >> 1;
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++)
    for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) data[(y * w + x) * 3 + c] = img.data[(2 * y * img.width + 2 * x) * 3 + c]!;
  return { width: w, height: h, data };
}

describe.skipIf(!hasTestData)('detector kind auto (YuNet-n from engines/, else MTCNN)', { timeout: 120_000 }, () => {
  const temp: string[] = [];
  let engine: FaceEngine;
  beforeAll(async () => {
    requireEngines();
    // This suite needs the default detector to be YuNet: set-up must have obtained it (CI: FACEGATE_MODEL_MIRROR).
    expect(chooseDetector(auto, undefined, enginesDir).kind, `no verified ${YUNET_N.file} in ${enginesDir}: run facegate models --from <folder with it>`).toBe(
      'yunet',
    );
    engine = await createFaceEngine(testEngineConfig());
  });
  afterAll(async () => {
    await engine?.close();
    for (const d of temp) rmSync(d, { recursive: true, force: true });
  });

  it('picks YuNet-n when its verified file is in engines/, MTCNN when it is missing or altered', async () => {
    expect(engine.detectorId).toBe(`yunet:yunet-n@${YUNET_N.sha256.slice(0, 12)}+onet`);
    // The pair's own stored threshold (LFW 10-fold), not the embedder's MTCNN-measured one.
    expect(engine.defaultThreshold).toBe(0.443);
    const bare = enginesWithout();
    const altered = Buffer.from(readFileSync(path.join(enginesDir, YUNET_N.file)));
    altered[1000]! ^= 1;
    const tampered = enginesWithout(altered);
    temp.push(bare, tampered);
    expect(chooseDetector(auto, undefined, bare)).toMatchObject({ kind: 'mtcnn', why: expect.stringContaining('facegate models --from') });
    expect(chooseDetector(auto, undefined, tampered).kind).toBe('mtcnn');
    const fallback = await createFaceEngine(testEngineConfig({ enginesDir: bare }));
    try {
      expect(fallback.detectorId).toMatch(/^mtcnn@/);
      expect(fallback.defaultThreshold).toBe(0.449);
    } finally {
      await fallback.close();
    }
    expect(() => chooseDetector({ ...auto, kind: 'yunet' }, undefined, bare)).toThrow(/needs --detector-model <file.onnx> or yunet-n.onnx/);
    // An explicit model file wins over the engines/ copy.
    const own = path.join(bare, 'mine.onnx');
    copyFileSync(dataPath('models/yunet/yunet_n_dynamic.onnx'), own);
    expect(chooseDetector({ ...auto, kind: 'yunet' }, own, bare)).toMatchObject({ kind: 'yunet', modelId: 'mine' });
  });

  it('runs frames of several shapes in one call as it runs each alone, finding the faces', async () => {
    const group = await decodeImage(dataPath('identity/bbt/bbt1.jpg'));
    const small = half(group);
    const portrait = await decodeImage(dataPath('lfw/lfw-deepfunneled/Aaron_Peirsol/Aaron_Peirsol_0001.jpg'));
    const frames = [group, small, portrait, small, group];
    const batched = await engine.detect(frames);
    const single = (await Promise.all(frames.map((f) => engine.detect([f])))).map((x) => x[0]);
    expect(batched[0]!.length).toBe(4);
    expect(batched[1]!.length).toBe(4);
    expect(batched[2]!.length).toBe(1);
    batched.forEach((ds, i) => {
      expect(ds.length).toBe(single[i]!.length);
      ds.forEach((d, k) => {
        expect(iou(d.box, single[i]![k]!.box)).toBeGreaterThan(0.999);
        expect(d.score).toBeCloseTo(single[i]![k]!.score, 4);
      });
    });
    // The half-size frame finds the same faces at half the coordinates.
    const centres = (ds: (typeof batched)[0], s: number) =>
      ds.map((d) => [((d.box[0] + d.box[2]) / 2) * s, ((d.box[1] + d.box[3]) / 2) * s]).sort((a, b) => a[0]! - b[0]!);
    centres(batched[1]!, 2).forEach((c, i) =>
      expect(Math.hypot(c[0]! - centres(batched[0]!, 1)[i]![0]!, c[1]! - centres(batched[0]!, 1)[i]![1]!)).toBeLessThan(6),
    );
  });

  it("with tiles, finds more of a crowd photo's faces than the whole image alone", async () => {
    const rel = '11--Meeting/11_Meeting_Meeting_11_Meeting_Meeting_11_507.jpg'; // 54 faces
    const labels = readFileSync(dataPath('detection/wider-val-200/labels.txt'), 'utf8').split('\n');
    const at = labels.findIndex((l) => l.startsWith(`# ${rel} `));
    const truth: Box[] = [];
    for (let i = at + 1; i < labels.length && labels[i] && !labels[i]!.startsWith('#'); i++) truth.push(labels[i]!.split(' ').map(Number) as Box);
    const img = await decodeImage(dataPath('detection/wider-val-200/images', rel));
    const hits = (ds: { box: Box }[]) => truth.filter((t) => ds.some((d) => iou(d.box, t) >= 0.5)).length;
    const run = async (tiles: boolean) => {
      const e = await createFaceEngine(testEngineConfig({ detector: { inputSize: 320, tiles, landmarks: 'own' } }));
      try {
        return (await e.detect([img]))[0];
      } finally {
        await e.close();
      }
    };
    const whole = await run(false);
    const tiled = await run(true);
    expect(truth.length).toBeGreaterThan(20);
    expect(hits(tiled!)).toBeGreaterThan(hits(whole!) + 5);
    // Tiles overlap: a face seen in two of them is reported once.
    for (let i = 0; i < tiled!.length; i++) for (let j = i + 1; j < tiled!.length; j++) expect(iou(tiled![i]!.box, tiled![j]!.box)).toBeLessThan(0.5);
  });
});
