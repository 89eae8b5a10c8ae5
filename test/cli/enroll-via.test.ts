/**
 * `enroll --json` says who made the enrolment: when the appliance starts while the CLI analyses its photos, the
 * CLI hands them to it, and `via` must then say "appliance" (it said "local").
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configWithDataDir } from '../../src/cli/context.js';
import { Admission } from '../../src/engine/admission.js';
import { startLocalApi, type LocalApi } from '../../src/local/api.js';
import { facebankJobs } from '../../src/local/session.js';
import { Enrolment } from '../../src/enrol/service.js';
import { Facebank } from '../../src/store/facebank.js';
import { configSchema } from '../../src/config/schema.js';
import { silentLogger } from '../../src/util/log.js';
import { dataPath, hasTestData } from '../helpers/data.js';
import { testEngine } from '../web/deps.js';

describe.skipIf(!hasTestData)('enroll: where the enrolment was made', { timeout: 120_000 }, () => {
  let dataDir: string;
  let facebank: Facebank | null = null;
  let api: LocalApi | null = null;
  beforeAll(async () => {
    dataDir = await mkdtemp(path.join(os.tmpdir(), 'fg-via-'));
  });
  afterAll(async () => {
    await api?.stop();
    await facebank?.close();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('an appliance that starts while the CLI analyses the photos enrols them, and `via` says so', async () => {
    const config = configWithDataDir({ 'data-dir': dataDir });
    const jobs = await facebankJobs(config, 'enroll');
    expect(jobs.where).toBe('local');
    // The appliance starts now: its facebank takes the lock as `run`, its local API answers.
    facebank = new Facebank(dataDir, { role: 'run' });
    await facebank.open();
    const engine = await testEngine();
    const enrol = new Enrolment({ dataDir, facebank, match: configSchema.parse({}).match, embedder: () => engine });
    await enrol.open();
    api = await startLocalApi({
      config,
      enrol,
      engine,
      admission: new Admission({ concurrency: 1, maxQueued: 4 }),
      log: silentLogger(),
    });
    const out = await jobs.enrol('Amy', [dataPath('identity', 'bbt', 'amy', 'amy1.png')]);
    expect(out.results[0]!.sampleId).toEqual(expect.any(String));
    expect(jobs.where).toBe('appliance');
    // The appliance's own facebank holds the sample.
    expect((await facebank.samples()).map((s) => s.id)).toEqual([out.results[0]!.sampleId]);
  });
});
