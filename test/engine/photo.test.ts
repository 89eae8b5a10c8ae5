/**
 * Photos are decoded small for detection and each face is aligned from a full-quality crop of the original:
 * a large photo gives the face (in its own pixels) and an embedding that match the same photo at its own size.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaceEngine } from '../../src/engine/index.js';
import { largestFace, OPEN_GATE } from '../../src/engine/largest.js';
import { analyzePhoto, toPhoto } from '../../src/engine/photo.js';
import type { FaceEngine } from '../../src/engine/types.js';
import { decodeImage, decodePhoto, decodePhotoRegion } from '../../src/ingest/still.js';
import { cosine } from '../../src/eval/lfw.js';
import { iou } from '../../src/vision/nms.js';
import type { Box } from '../../src/vision/types.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { requireEngines, testEngineConfig } from './engines.js';

const obama = dataPath('identity/fr-examples/examples/obama.jpg'); // 910x1137, one face
const dir = mkdtempSync(path.join(tmpdir(), 'facegate-photo-'));
const big = path.join(dir, 'obama-4x.jpg');
const turned = path.join(dir, 'obama-exif6.jpg');
const group = dataPath('identity/bbt/bbt1.jpg');
const bigGroup = path.join(dir, 'bbt1-4x.jpg');
const scaled = (b: Box, k: number): Box => [b[0] * k, b[1] * k, b[2] * k, b[3] * k];

describe.skipIf(!hasTestData)('photos without blow-ups', { timeout: 120_000 }, () => {
  let engine: FaceEngine;
  beforeAll(async () => {
    requireEngines();
    engine = await createFaceEngine(testEngineConfig());
    // 4x upscaled (3640x4548, 16.6 MP) and a copy stored turned with EXIF orientation 6.
    await sharp(obama).resize(3640).jpeg({ quality: 92 }).toFile(big);
    await sharp(group)
      .resize(1366 * 4)
      .jpeg({ quality: 92 })
      .toFile(bigGroup);
    await sharp(obama).rotate(-90).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toFile(turned);
  });
  afterAll(async () => {
    await engine?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('decodes a large photo shrunk to the detector size, upright, with its own size', async () => {
    const p = await decodePhoto(big, { maxSide: 960 });
    expect([p.width, p.height]).toEqual([3640, 4548]);
    expect(Math.max(p.image.width, p.image.height)).toBe(960);
    expect(p.scale).toBeCloseTo(960 / 4548, 3);
    const t = await decodePhoto(turned, { maxSide: 960 });
    expect([t.width, t.height]).toEqual([910, 1137]);
    expect([t.image.width, t.image.height]).toEqual([768, 960]);
    // A region of the turned photo is cut from the upright picture.
    const plain = await decodeImage(obama);
    const region = await decodePhotoRegion(t, { x: 400, y: 100, w: 200, h: 300 }, 200, 300);
    let diff = 0;
    for (let y = 0; y < 300; y++)
      for (let x = 0; x < 200; x++)
        for (let c = 0; c < 3; c++) diff += Math.abs(region.data[(y * 200 + x) * 3 + c]! - plain.data[((y + 100) * 910 + x + 400) * 3 + c]!);
    expect(diff / (200 * 300 * 3)).toBeLessThan(6);
  });

  it('finds the faces of a large group photo where they are, aligned from the full-quality original', async () => {
    // bbt1: 1366x768 with four ~100 px faces; 4x upscaled, the 960-px detection image holds them at ~70 px.
    const native = await decodePhoto(group, { maxSide: 1366 });
    const large = await decodePhoto(bigGroup, { maxSide: 960 });
    expect(large.scale).toBeLessThan(0.2);
    const byX = <T extends { box: Box }>(fs: T[]) => fs.sort((a, b) => a.box[0] - b.box[0]);
    const ref = byX((await analyzePhoto(engine, native, OPEN_GATE)).faces.map((f) => toPhoto(f, native)));
    const got = byX((await analyzePhoto(engine, large, OPEN_GATE)).faces.map((f) => toPhoto(f, large)));
    const [shrunk] = await engine.analyze([large.image], OPEN_GATE);
    const shrunkOnly = byX(shrunk!.faces);
    expect(ref).toHaveLength(4);
    expect(got).toHaveLength(4);
    got.forEach((f, i) => {
      expect(iou(f.box, scaled(ref[i]!.box, 4))).toBeGreaterThan(0.8);
      // Aligned from the original: sharper than from the shrunk image, and closer to the native photo's face.
      expect(f.quality.blur).toBeGreaterThan(shrunkOnly[i]!.quality.blur);
      expect(f.quality.size).toBeGreaterThan(300);
      expect(cosine(f.embedding, ref[i]!.embedding)).toBeGreaterThan(0.85);
    });
    // largestFace reports the box in the photo's pixels.
    const lf = await largestFace(engine, large);
    expect(got.some((f) => iou(lf.box, f.box) > 0.99)).toBe(true);
  });
});
