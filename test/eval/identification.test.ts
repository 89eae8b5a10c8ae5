/** `eval identification` on a small LFW subset through the full pipeline, with floors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createFaceEngine } from '../../src/engine/index.js';
import type { FaceEngine } from '../../src/engine/types.js';
import { evalIdentification } from '../../src/eval/run-identification.js';
import { silentLogger } from '../../src/util/log.js';
import { dataPath, hasTestData, repoRoot } from '../helpers/data.js';
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

  it('the command prints one JSON report, and refuses a bad gallery size in one sentence', async () => {
    const cli = path.join(repoRoot, 'dist/cli.js');
    if (!existsSync(cli)) throw new Error('dist/cli.js was not built: run `npm run build` (npm test does)');
    const run = (...args: string[]) =>
      promisify(execFile)(process.execPath, [cli, 'eval', 'identification', '--data', dataPath('lfw'), ...args], { cwd: repoRoot, encoding: 'utf8' }).then(
        (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
        (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
      );
    const ok = await run('--limit-identities', '12', '--sizes', '10,all', '--json');
    expect(ok.code).toBe(0);
    const r = JSON.parse(ok.stdout.trim().split('\n').at(-1)!);
    expect(r.sizes.map((s: { size: number }) => s.size)).toEqual([10, 12]);
    expect(r.sizes[0].points.map((p: { fpir: number }) => p.fpir)).toEqual([0.1, 0.01, 0.001]);
    expect(r.ruleFpir).toBe(0.001);
    expect(r.sizes[1].at.threshold).toBeGreaterThan(0.4);
    const bad = await run('--sizes', '10,1');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe(`facegate eval: --sizes takes gallery sizes of 2 or more, or "all" (got "1")`);
  }, 300_000);
});
