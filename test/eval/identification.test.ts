/** `eval identification` on a small LFW subset through the full pipeline, with floors. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { createFaceEngine } from '../../src/engine/index.js';
import type { FaceEngine } from '../../src/engine/types.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import { evalIdentification, siteRuleSnippet, type IdentificationReport } from '../../src/eval/run-identification.js';
import { parse } from 'yaml';
import { configSchema } from '../../src/config/schema.js';
import { ruleFor } from '../../src/match/thresholds.js';
import { silentLogger } from '../../src/util/log.js';
import { dataPath, hasTestData, repoRoot } from '../helpers/data.js';
import { testEngineConfig } from '../engine/engines.js';

describe.skipIf(!hasTestData)('eval identification (LFW subset, real models)', () => {
  let engine: FaceEngine;
  beforeAll(async () => {
    engine = await createFaceEngine(testEngineConfig(), { log: silentLogger() });
  }, 60_000);
  afterAll(() => engine?.close());

  it('fits thresholds on one half of the people and checks them on the other, both ways over each deal, per face and per track, from a cache', async () => {
    const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'facegate-ident-'));
    try {
      const opts = { limitIdentities: 160, sizes: [10, 'all'] as (number | 'all')[], keys: [1, 2], margin: 0.05, deals: 2, cacheDir };
      const r = await evalIdentification(engine, dataPath('lfw'), opts);
      expect(r.identities).toBe(160);
      expect(r.deals).toBe(2);
      expect(r.pairKey).toBe('yunet-n+onet+mobilefacenet');
      // The config lines it prints make an appliance running this pair (this very embedder file) use the fitted rule.
      expect(r.siteKey).toBe(`yunet-n+onet+${engine.embedderId}`);
      const site = configSchema.parse(parse(siteRuleSnippet(r))).match.rules;
      expect(ruleFor(engine.embedderId, engine.detectorId, site)).toEqual({ key: r.siteKey, rule: r.fitted });
      expect(r.keys.map((k) => k.keys)).toEqual([1, 2]);
      for (const k of r.keys) {
        expect(k.sizes.map((s) => s.size)).toEqual([10, 150]);
        // Both halves hold strangers: the check half is never used for fitting.
        expect(k.fitStrangers).toBeGreaterThan(20);
        expect(k.checkStrangers).toBeGreaterThan(20);
        for (const s of k.sizes) {
          expect(s.rank1).toBeGreaterThanOrEqual(0.9);
          // Two deals, each half fitting once: four splits, and the rule's entry is their mean threshold.
          for (const p of s.points) {
            expect(p.splitThresholds).toHaveLength(4);
            const mean = p.splitThresholds.reduce((a, b) => a + b, 0) / 4;
            expect(p.threshold).toBeCloseTo(mean, 3);
            expect(p.checkFpirExpectedMax).toBeGreaterThanOrEqual(p.checkFpirExpected);
          }
          // The threshold rises as the allowed false names fall.
          expect(s.points.map((p) => p.threshold)).toEqual([...s.points.map((p) => p.threshold)].sort((a, b) => a - b));
          // Held out at FPIR 1e-1: within what a few hundred strangers can resolve.
          const loose = s.points.find((p) => p.fpir === 1e-1)!;
          expect(loose.checkFpir).toBeLessThanOrEqual(0.2);
          expect(loose.checkDir).toBeGreaterThanOrEqual(0.8);
        }
      }
      // Tracks of two photos are named at lower thresholds than single faces for the same target.
      expect(r.fitted.tracks![1]![1]![1]!).toBeLessThan(r.fitted.thresholds[1]![1]!);
      // The second run reads the cache (no model runs) and measures the same.
      const again = await evalIdentification({ ...engine, detect: () => Promise.reject(new Error('the cache was not used')) }, dataPath('lfw'), opts);
      expect(again.fitted).toEqual(r.fitted);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
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
    const ok = await run('--limit-identities', '48', '--sizes', '10,all', '--json');
    expect(ok.code).toBe(0);
    const r = JSON.parse(ok.stdout.trim().split('\n').at(-1)!) as IdentificationReport;
    expect(r.keys.map((k) => k.keys)).toEqual([1, 2, 3]);
    expect(r.keys[0]!.sizes.map((s) => s.size)).toEqual([10, 45]);
    expect(r.keys[0]!.sizes[0]!.points.map((p) => p.fpir)).toEqual([0.1, 0.01, 0.001]);
    expect(r.ruleFpir).toBe(0.001);
    expect(r.ruleKey).toBe('yunet-n+onet+mobilefacenet');
    expect(r.keys[0]!.sizes[1]!.rule!.threshold).toBeGreaterThan(0.4);
    const bad = await run('--sizes', '10,1');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr.trim()).toBe(`facegate eval: --sizes takes gallery sizes of 2 or more, or "all" (got "1")`);
  }, 300_000);
});
