/** One-sentence answers to easy mistakes: a directory where photos to enrol are expected, a --face number that is not there. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPath, hasTestData } from '../helpers/data.js';
import { requireBuild, runCli } from '../e2e/appliance.js';

describe.skipIf(!hasTestData)('CLI messages', { timeout: 120_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    requireBuild();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fg-msg-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('enroll on a directory says it is one and how to name the photos; detect walks it', async () => {
    const folder = dataPath('identity', 'bbt', 'amy');
    const d = await runCli(['detect', '--json', folder]);
    expect(d.code).toBe(0);
    expect(d.json.images.length).toBeGreaterThan(1);
    for (const img of d.json.images) expect(path.dirname(img.path)).toBe(folder);
    const e = await runCli(['enroll', 'Amy', folder, '--data-dir', dir, '--json']);
    expect(e.code).toBe(1);
    expect(e.json.results[0]).toMatchObject({ error: 'is_directory', message: expect.stringContaining('is a directory') });
  });

  it('enroll --face N beyond the faces counts faces and usable faces the way the refusal does', async () => {
    const group = dataPath('identity', 'bbt', 'bbt1.jpg');
    const plain = await runCli(['enroll', 'Group', group, '--data-dir', dir, '--json']);
    const usable = Number(/shows (\d+) usable faces/.exec(plain.json.results[0].message)![1]);
    const r = await runCli(['enroll', 'Group', group, '--face', '9', '--data-dir', dir, '--json']);
    expect(r.code).toBe(1);
    expect(r.json.results[0].message).toMatch(
      new RegExp(`^There is no face number 9 in this photo: it has \\d+ faces \\(0 to \\d+, left to right\\), ${usable} of them usable\\.$`),
    );
  });
});
