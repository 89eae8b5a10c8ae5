/** `eval identification` on a small LFW subset through the full pipeline, with floors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createFaceEngine } from '../../src/engine/index.js';
import type { FaceEngine } from '../../src/engine/types.js';
import { evalIdentification } from '../../src/eval/run-identification.js';
import { silentLogger } from '../../src/util/log.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { testEngineConfig } from '../engine/engines.js';

describe.skipIf(!hasTestData)('eval identification (LFW subset, real models)', () => {
  let engine: FaceEngine;
  beforeAll(async () => {
    engine = await createFaceEngine(testEngineConfig(), { log: silentLogger() });
  }, 60_000);
  afterAll(() => engine?.close());

  it('identifies enrolled people and keeps strangers out at FPIR 1e-2', async () => {
    const r = await evalIdentification(engine, dataPath('lfw'), { limitIdentities: 50, sizes: [10, 'all'], margin: 0.05 });
    expect(r.identities).toBe(50);
    expect(r.nonMatedIdentities).toBe(200);
    expect(r.sizes.map((s) => [s.size, s.trials])).toEqual([
      [10, 10],
      [50, 1],
    ]);
    for (const s of r.sizes) {
      expect(s.nonMated).toBe(200 * s.trials);
      expect(s.rank1).toBeGreaterThanOrEqual(0.95);
      const at1e2 = s.points.find((p) => p.fpir === 1e-2)!;
      expect(at1e2.measuredFpir).toBeLessThanOrEqual(0.01);
      expect(at1e2.dir).toBeGreaterThanOrEqual(0.9);
      // The threshold rises as the allowed false names fall.
      expect(s.points.map((p) => p.threshold)).toEqual([...s.points.map((p) => p.threshold)].sort((a, b) => a - b));
    }
  }, 300_000);
});
