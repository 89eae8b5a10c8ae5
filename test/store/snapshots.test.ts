import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { Snapshots } from '../../src/store/snapshots.js';

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'facegate-snap-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});
const img = (w: number, h: number) => ({ width: w, height: h, data: new Uint8Array(w * h * 3).map((_, i) => i % 251) });

describe('Snapshots', () => {
  it('saves a crop as a JPEG and resolves its id', async () => {
    const s = new Snapshots(await tmp());
    const id = await s.save(img(112, 112));
    expect(id).toMatch(/^[a-zA-Z0-9-]+$/);
    const file = await s.path(id);
    expect(file).toBe(path.join(s.dir, `${id}.jpg`));
    expect(await sharp(file!).metadata()).toMatchObject({ format: 'jpeg', width: 112, height: 112 });
    expect(await s.path('no-such-id')).toBeNull();
  });

  it('rejects ids that could leave the folder', async () => {
    const s = new Snapshots(await tmp());
    for (const bad of ['../facebank', 'a/b', 'a.jpg', '', '..', 'x\u0000', '%2e%2e']) {
      expect(() => s.pathOf(bad)).toThrow(/letters, digits/);
      expect(await s.path(bad)).toBeNull();
    }
    await expect(s.save({ width: 4, height: 4, data: new Uint8Array(3) })).rejects.toMatchObject({ code: 'invalid' });
  });

  it('prunes by age, then the oldest beyond a count', async () => {
    const s = new Snapshots(await tmp());
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await s.save(img(8, 8)));
    const now = Date.now();
    // ids[0] is 10 h old, ids[1] 5 h, the rest 1..3 min.
    const ages = [10 * 3600, 5 * 3600, 180, 120, 60];
    await Promise.all(ids.map((id, i) => utimes(s.pathOf(id), (now - ages[i]! * 1000) / 1000, (now - ages[i]! * 1000) / 1000)));
    await writeFile(path.join(s.dir, '.x.jpg.0123456789ab.tmp'), 'half');
    expect(await s.prune({ maxAgeMs: 6 * 3600_000, now })).toBe(1);
    expect(existsSync(s.pathOf(ids[0]!))).toBe(false);
    expect(await s.prune({ maxCount: 2, now })).toBe(2);
    expect((await readdir(s.dir)).sort()).toEqual([`${ids[3]}.jpg`, `${ids[4]}.jpg`].sort());
  });
});
