/**
 * The engine spread over worker threads: same answers as one engine, in input order, errors that name the
 * problem, and workers that go away on close. Uses the compiled worker (dist/), built by `npm run setup`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaceEngine } from '../../src/engine/index.js';
import { OPEN_GATE } from '../../src/engine/largest.js';
import { chunks, createEnginePool, framesPerJob } from '../../src/engine/pool.js';
import type { FaceEngine, StageTimes } from '../../src/engine/types.js';
import { decodeImage } from '../../src/ingest/still.js';
import { cosine } from '../../src/eval/lfw.js';
import { iou } from '../../src/vision/nms.js';
import type { RgbImage } from '../../src/vision/types.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { requireEngines, testEngineConfig } from './engines.js';

describe('chunks', () => {
  it('cuts a batch into consecutive jobs of at most the given size, in order', () => {
    expect(chunks([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]]);
    expect(chunks([1, 2, 3], 1)).toEqual([[1], [2], [3]]);
    expect(chunks([1, 2, 3], 4)).toEqual([[1, 2, 3]]);
    expect(chunks([], 3)).toEqual([]);
  });
});

describe('framesPerJob', () => {
  it('gives every worker an even share of a call, at least one frame a job', () => {
    expect(framesPerJob(4, 2)).toBe(2);
    expect(framesPerJob(5, 2)).toBe(3);
    expect(framesPerJob(1, 2)).toBe(1);
    expect(framesPerJob(3, 4)).toBe(1);
    expect(chunks([1, 2, 3, 4, 5], framesPerJob(5, 2))).toEqual([
      [1, 2, 3],
      [4, 5],
    ]);
  });
});

describe.skipIf(!hasTestData)('engine pool (2 workers)', { timeout: 120_000 }, () => {
  let pool: FaceEngine;
  let single: FaceEngine;
  let frames: RgbImage[];
  beforeAll(async () => {
    requireEngines();
    [pool, single] = await Promise.all([createEnginePool(testEngineConfig(), 2, 2), createFaceEngine(testEngineConfig())]);
    const knn = (f: string) => dataPath('identity/fr-examples/examples/knn_examples', f);
    frames = await Promise.all(
      ['test/obama_and_biden.jpg', 'train/biden/biden.jpg', 'test/obama1.jpg', 'train/obama/obama.jpg', 'test/kit_with_rose.jpg'].map((f) =>
        decodeImage(knn(f)),
      ),
    );
  }, 120_000);
  afterAll(async () => {
    await Promise.all([pool?.close(), single?.close()]);
  });

  it('reports the same models, threshold and provider as one engine', () => {
    expect(pool.embedderId).toBe(single.embedderId);
    expect(pool.detectorId).toBe(single.detectorId);
    expect(pool.defaultThreshold).toBe(single.defaultThreshold);
    expect(pool.provider).toBe('cpu');
  });

  it('analyses a batch split over the workers exactly as one engine does, in input order', async () => {
    const times: StageTimes = { detect: 0, align: 0, embed: 0 };
    const [got, want] = await Promise.all([pool.analyze(frames, OPEN_GATE, times), single.analyze(frames, OPEN_GATE)]);
    expect(got).toHaveLength(frames.length);
    expect(got.map((r) => r.faces.length)).toEqual(want.map((r) => r.faces.length));
    expect(got[0]!.faces.length).toBeGreaterThanOrEqual(2);
    got.forEach((r, i) =>
      r.faces.forEach((f, k) => {
        const w = want[i]!.faces[k]!;
        expect(iou(f.box, w.box)).toBeGreaterThan(0.999);
        expect(cosine(f.embedding, w.embedding)).toBeGreaterThan(0.9999);
        expect(f.aligned.data).toBeInstanceOf(Uint8Array);
      }),
    );
    expect(times.detect).toBeGreaterThan(0);
    expect(times.embed).toBeGreaterThan(0);
  });

  it('runs concurrent calls and single frames, detect and embedAligned too', async () => {
    const [a, b, d] = await Promise.all([pool.analyze([frames[1]!], OPEN_GATE), pool.analyze([frames[3]!], OPEN_GATE), pool.detect(frames)]);
    const [wa, wb] = await Promise.all([single.analyze([frames[1]!], OPEN_GATE), single.analyze([frames[3]!], OPEN_GATE)]);
    expect(a[0]!.faces.length).toBeGreaterThanOrEqual(1);
    expect(a[0]!.faces).toHaveLength(wa[0]!.faces.length);
    expect(b[0]!.faces).toHaveLength(wb[0]!.faces.length);
    expect(d.map((x) => x.length)).toEqual((await single.detect(frames)).map((x) => x.length));
    const crops = [a[0]!.faces[0]!.aligned, b[0]!.faces[0]!.aligned, a[0]!.faces[0]!.aligned];
    const e = await pool.embedAligned(crops);
    expect(e).toHaveLength(3);
    expect(cosine(e[0]!, e[2]!)).toBeGreaterThan(0.9999);
    expect(cosine(e[0]!, a[0]!.faces[0]!.embedding)).toBeGreaterThan(0.9999);
  });

  it('passes a bad crop error back by code and keeps working', async () => {
    const bad = { width: 10, height: 10, data: new Uint8Array(300) };
    await expect(pool.embedAligned([bad, bad])).rejects.toMatchObject({ name: 'FacegateError', code: 'bad_crop' });
    expect((await pool.analyze([frames[1]!], OPEN_GATE))[0]!.faces.length).toBeGreaterThanOrEqual(1);
  });
});

describe('engine pool start-up and close', () => {
  it('fails with the model error when the engines folder is missing, leaving no worker behind', async () => {
    await expect(createEnginePool(testEngineConfig({ enginesDir: '/nonexistent/engines' }), 2, 2)).rejects.toMatchObject({
      name: 'FacegateError',
      code: 'engines_missing',
    });
  });

  it('refuses calls after close', async () => {
    requireEngines();
    const pool = await createEnginePool(testEngineConfig(), 2, 2);
    await pool.close();
    await expect(pool.detect([{ width: 4, height: 4, data: new Uint8Array(48) }])).rejects.toMatchObject({ code: 'engine_closed' });
  });
});
