/**
 * Admission control on a real `facegate run`: with one analysis slot and one waiting place, a burst of page
 * uploads gets 429 with Retry-After beyond the bound, the refused ones succeed when retried as told, and CLI
 * enrolments sent to the appliance wait their turn the same way and all succeed.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPath, hasTestData } from '../helpers/data.js';
import { freePort } from '../helpers/ports.js';
import { AdminClient, ApplianceProcess, requireBuild, runCli, writeApplianceConfig } from './appliance.js';

describe.skipIf(!hasTestData)('admission control for photo analysis', { timeout: 600_000 }, () => {
  let dir: string;
  let port: number;
  let app: ApplianceProcess;
  let bigs: string[];
  const nextBig = () => bigs.shift()!;
  const dataDir = () => path.join(dir, 'data');

  beforeAll(async () => {
    requireBuild();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fg-adm-'));
    port = await freePort();
    // 6-megapixel photos of one face each on a noisy background: each analysis takes a while, so a burst really
    // queues. Every upload is a different picture (the page refuses a picture a person already has).
    const faces = ['penny', 'amy', 'bernadette', 'howard', 'leonard', 'raj', 'sheldon', 'stuart'].flatMap((who) =>
      [1, 2].map((i) => dataPath('identity', 'bbt', who, `${who}${i}.png`)),
    );
    bigs = [];
    for (const [k, file] of faces.entries()) {
      const big = path.join(dir, `big${k}.jpg`);
      const face = await sharp(file).resize(400, 400).png().toBuffer();
      await sharp({ create: { width: 3000, height: 2000, channels: 3, background: '#808080', noise: { type: 'gaussian', mean: 128, sigma: 20 } } })
        .composite([{ input: face, left: 1300, top: 800 }])
        .jpeg({ quality: 80 })
        .toFile(big);
      bigs.push(big);
    }
    app = new ApplianceProcess(await writeApplianceConfig(path.join(dir, 'config.yaml'), { dataDir: dataDir(), port, web: { heavyJobs: 1, heavyQueue: 1 } }));
    await app.start();
  });
  afterAll(async () => {
    await app?.stop('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('a burst of uploads: 429 with Retry-After beyond one running and one waiting; retried as told, all are enrolled', async () => {
    const web = new AdminClient(`http://127.0.0.1:${port}`);
    await web.setup('a long enough password', app.claimCode());
    const person = ((await (await web.req('POST', '/api/people', { name: 'Penny' })).json()) as { id: string }).id;
    const first = await Promise.all(Array.from({ length: 6 }, () => web.upload(person, [nextBig()])));
    const ok = first.filter((r) => r.status === 200);
    const busy = first.filter((r) => r.status === 429);
    expect(ok.length + busy.length).toBe(6);
    expect(ok.length).toBeGreaterThanOrEqual(2);
    expect(busy.length).toBeGreaterThanOrEqual(1);
    for (const r of busy) {
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await r.json()).toMatchObject({
        error: 'busy',
        message: expect.stringMatching(/^The appliance is busy with other photos; try again in \d+ s\.$/),
      });
    }
    for (const r of ok) expect(await r.json()).toMatchObject({ accepted: 1 });
    // The refused ones, retried after Retry-After, one at a time: all enrolled.
    let retried = 0;
    for (let left = busy.length; left > 0;) {
      const r = await web.upload(person, [nextBig()]);
      if (r.status === 429) {
        await new Promise((res) => setTimeout(res, 1000 * Number(r.headers.get('retry-after'))));
        continue;
      }
      expect(r.status).toBe(200);
      left--;
      retried++;
    }
    expect(retried).toBe(busy.length);
    const samples = ((await (await web.req('GET', `/api/people/${person}/samples`)).json()) as { samples: unknown[] }).samples;
    expect(samples).toHaveLength(6);
  });

  it('CLI enrolments sent to the busy appliance wait their turn (Retry-After) and all succeed', async () => {
    const runs = await Promise.all(
      Array.from({ length: 5 }, (_, i) => runCli(['enroll', `Big ${i}`, nextBig(), '--force', '--data-dir', dataDir(), '--json'])),
    );
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.json).toMatchObject({ via: 'appliance', created: true });
    }
    expect(app.log).toMatch(/local api: enrolment/);
  });
});
