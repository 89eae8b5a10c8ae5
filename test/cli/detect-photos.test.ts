/**
 * `facegate detect` on folders and large photos: folders are walked, faces are counted at the operating score
 * threshold, and a large photo's boxes come back in its own pixels.
 */
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPath, hasTestData, repoRoot } from '../helpers/data.js';
import { requireEngines } from '../engine/engines.js';
import { expandImagePaths } from '../../src/cli/detect.js';

const cli = path.join(repoRoot, 'dist/cli.js');
const tmp = mkdtempSync(path.join(tmpdir(), 'facegate-detect-'));
const exec = promisify(execFile);

async function detect(...args: string[]) {
  const r = await exec(process.execPath, [cli, 'detect', ...args], {
    cwd: repoRoot,
    encoding: 'utf8',
    env: { ...process.env, FACEGATE_LOG_LEVEL: 'error' },
  }).then(
    (x) => ({ code: 0, stdout: x.stdout, stderr: x.stderr }),
    (e) => ({ code: e.code as number, stdout: e.stdout as string, stderr: e.stderr as string }),
  );
  const lines = r.stdout.trim().split('\n');
  return { ...r, json: args.includes('--json') ? JSON.parse(lines[lines.length - 1]!) : null };
}

describe.skipIf(!hasTestData)('facegate detect on folders and large photos', { timeout: 300_000 }, () => {
  beforeAll(async () => {
    requireEngines();
    if (!existsSync(cli)) throw new Error('dist/cli.js was not built: run `npm run build` (npm test does)');
    mkdirSync(path.join(tmp, 'album/sub'), { recursive: true });
    mkdirSync(path.join(tmp, 'empty'));
    copyFileSync(dataPath('identity/bbt/bbt1.jpg'), path.join(tmp, 'album/b.jpg'));
    copyFileSync(dataPath('identity/fr-examples/examples/obama.jpg'), path.join(tmp, 'album/sub/a.jpg'));
    await sharp(dataPath('identity/bbt/bbt1.jpg'))
      .resize(1366 * 4)
      .jpeg({ quality: 90 })
      .toFile(path.join(tmp, 'big.jpg'));
  });
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  it('walks a folder (sorted, with sub-folders) and says so for a folder without images', async () => {
    expect(expandImagePaths([path.join(tmp, 'album')])).toEqual([path.join(tmp, 'album/b.jpg'), path.join(tmp, 'album/sub/a.jpg')]);
    const r = await detect('--json', path.join(tmp, 'album'), path.join(tmp, 'empty'));
    expect(r.code).toBe(1);
    expect(r.json.images.map((i: { path: string; faces?: unknown[] }) => [path.relative(tmp, i.path), i.faces?.length])).toEqual([
      ['album/b.jpg', 4],
      ['album/sub/a.jpg', 1],
      ['empty', undefined],
    ]);
    expect(r.json.images[2].error).toBe(`${path.join(tmp, 'empty')} is a directory, not an image`);
  });

  it('counts faces at the operating score threshold; --min-score changes it', async () => {
    const img = dataPath('detection/wider-val-200/images/11--Meeting/11_Meeting_Meeting_11_Meeting_Meeting_11_507.jpg');
    const dflt = (await detect('--json', img)).json.images[0].faces as { score: number }[];
    const low = (await detect('--json', '--min-score', '0.5', img)).json.images[0].faces as { score: number }[];
    expect(dflt.every((f) => f.score >= 0.8)).toBe(true);
    expect(low.some((f) => f.score < 0.8)).toBe(true);
    expect(low.length).toBeGreaterThan(dflt.length);
    expect((await detect('--min-score', '2', img)).stderr).toMatch(/--min-score must be a number from 0 to 1/);
  });

  it('reports a large photo at its own size, with boxes in its pixels', async () => {
    const small = (await detect('--json', dataPath('identity/bbt/bbt1.jpg'))).json.images[0];
    const big = (await detect('--json', path.join(tmp, 'big.jpg'))).json.images[0];
    expect([big.width, big.height]).toEqual([5464, 3072]);
    expect(big.faces).toHaveLength(small.faces.length);
    const left = (fs: { box: number[] }[]) => fs.map((f) => f.box[0]).sort((a, b) => a! - b!);
    left(big.faces).forEach((x, i) => expect(Math.abs(x! - 4 * left(small.faces)[i]!)).toBeLessThan(24));
  });
});
