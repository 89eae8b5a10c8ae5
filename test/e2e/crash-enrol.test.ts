/**
 * SIGKILL of `facegate run` in the middle of an enrolment burst through its APIs (page uploads and CLI jobs
 * over the local socket): the facebank on disk is valid, every enrolment that was acknowledged is in it with
 * its crop, and the next start serves it.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPath, hasTestData } from '../helpers/data.js';
import { freePort } from '../helpers/ports.js';
import { AdminClient, ApplianceProcess, requireBuild, runCli, writeApplianceConfig } from './appliance.js';
import { readFacebankFiles } from '../../src/store/facebank.js';

const WHO = ['amy', 'howard', 'leonard', 'penny', 'raj', 'sheldon'];
const photo = (i: number) => dataPath('identity', 'bbt', WHO[i % WHO.length]!, `${WHO[i % WHO.length]}${1 + (Math.floor(i / WHO.length) % 4)}.png`);

describe.skipIf(!hasTestData)('SIGKILL during an API enrolment burst', { timeout: 600_000 }, () => {
  let dir: string;
  let port: number;
  let app: ApplianceProcess;
  const dataDir = () => path.join(dir, 'data');

  beforeAll(async () => {
    requireBuild();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fg-crash-'));
    port = await freePort();
    app = new ApplianceProcess(await writeApplianceConfig(path.join(dir, 'config.yaml'), { dataDir: dataDir(), port }));
    await app.start();
  });
  afterAll(async () => {
    await app?.stop('SIGKILL');
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('the facebank is valid and holds every acknowledged enrolment', async () => {
    const web = new AdminClient(`http://127.0.0.1:${port}`);
    await web.setup('a long enough password', app.claimCode());
    const person = ((await (await web.req('POST', '/api/people', { name: 'Burst' })).json()) as { id: string }).id;
    const acked: string[] = [];
    let inFlight = 0;
    // Page uploads one after another on 3 connections, CLI enrolments 4 at a time, until the kill.
    let killed = false;
    const uploader = async (k: number) => {
      for (let i = k; !killed; i += 3) {
        inFlight++;
        try {
          const res = await web.upload(person, [photo(i)]);
          if (res.status === 200) for (const r of ((await res.json()) as { results: { sampleId?: string }[] }).results) if (r.sampleId) acked.push(r.sampleId);
        } catch {
          // The connection died with the process: not acknowledged.
        } finally {
          inFlight--;
        }
      }
    };
    const cliUser = async (k: number) => {
      for (let i = k; !killed; i += 4) {
        const r = await runCli(['enroll', `Cli ${i}`, photo(i), '--data-dir', dataDir(), '--json']);
        if (r.code === 0) acked.push(...r.json.results.map((x: { sampleId: string }) => x.sampleId));
      }
    };
    const workers = [0, 1, 2].map(uploader).concat([0, 1, 2, 3].map(cliUser));
    // Kill once a good number is acknowledged and requests are in flight.
    while (acked.length < 12 || inFlight === 0) await new Promise((r) => setTimeout(r, 20));
    expect(await app.stop('SIGKILL')).toBe('SIGKILL');
    killed = true;
    await Promise.all(workers);

    // Read as the killed process left it (checked record by record; a torn last change is left out).
    const fb = await readFacebankFiles(dataDir());
    const ids = new Set(fb.samples.map((s) => s.id));
    for (const id of acked) {
      expect(ids.has(id), `acknowledged sample ${id}`).toBe(true);
      expect(existsSync(path.join(dataDir(), 'samples', `${id}.jpg`))).toBe(true);
    }
    for (const s of fb.samples) expect(existsSync(path.join(dataDir(), 'samples', `${s.id}.jpg`)), `crop of ${s.id}`).toBe(true);
    console.log(`[crash during enrolment] ${acked.length} acknowledged, ${fb.samples.length} on disk after SIGKILL`);

    // The next start serves exactly that facebank.
    await app.start();
    const listed = await runCli(['people', 'list', '--json', '--data-dir', dataDir()]);
    expect(listed.json.people.reduce((n: number, p: { samples: number }) => n + p.samples, 0)).toBe(fb.samples.length);
    expect(await app.stop('SIGTERM')).toBe(0);
  });
});
