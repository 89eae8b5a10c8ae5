/**
 * One writer for the facebank, with real processes: 20 `facegate enroll` at once (no appliance), then 20 at
 * once plus page uploads while `facegate run` is up. Nothing may be lost: every acknowledged sample is in the
 * facebank with its crop, the appliance sees the CLI's people, no temp file is left, and a backup succeeds.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPath, hasTestData } from '../helpers/data.js';
import { freePort } from '../helpers/ports.js';
import { AdminClient, ApplianceProcess, requireBuild, runCli, writeApplianceConfig } from './appliance.js';
import { readFacebankFiles } from '../../src/store/facebank.js';

const bbt = (who: string, n: number) => dataPath('identity', 'bbt', who, `${who}${n}.png`);
const WHO = ['amy', 'howard', 'leonard', 'penny', 'raj', 'sheldon', 'bernadette'];
/** Photos that have one usable face (bernadette5 has none). */
const photo = (i: number) => bbt(WHO[i % WHO.length]!, 1 + (Math.floor(i / WHO.length) % 4));

interface FacebankFile {
  people: { id: string; name: string }[];
  samples: { id: string; personId: string }[];
}

async function checkOnDisk(dataDir: string): Promise<FacebankFile> {
  const fb: FacebankFile = await readFacebankFiles(dataDir);
  const people = new Set(fb.people.map((p) => p.id));
  for (const s of fb.samples) {
    expect(people.has(s.personId)).toBe(true);
    expect(existsSync(path.join(dataDir, 'samples', `${s.id}.jpg`)), `crop of ${s.id}`).toBe(true);
  }
  expect((await readdir(dataDir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  expect((await readdir(path.join(dataDir, 'samples'))).sort()).toEqual(fb.samples.map((s) => `${s.id}.jpg`).sort());
  return fb;
}

describe.skipIf(!hasTestData)('one facebank writer (real processes)', { timeout: 600_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    requireBuild();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fg-1w-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('20 concurrent `enroll` processes without the appliance: all 20 saved with crops, backup works', async () => {
    const dataDir = path.join(dir, 'alone');
    const runs = await Promise.all(Array.from({ length: 20 }, (_, i) => runCli(['enroll', `Solo ${i}`, photo(i), '--force', '--data-dir', dataDir, '--json'])));
    for (const r of runs) {
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(r.json.via).toBe('local');
    }
    const fb = await checkOnDisk(dataDir);
    expect(fb.people.map((p) => p.name).sort()).toEqual(Array.from({ length: 20 }, (_, i) => `Solo ${i}`).sort());
    const acked = runs.flatMap((r) => r.json.results.map((x: { sampleId: string }) => x.sampleId));
    expect(fb.samples.map((s) => s.id).sort()).toEqual(acked.sort());
    const backup = await runCli(['backup', path.join(dir, 'alone.fgb'), '--data-dir', dataDir, '--json']);
    expect(backup.json).toMatchObject({ ok: true, people: 20, samples: 20 });
  });

  describe('with `facegate run` up', () => {
    const dataDir = () => path.join(dir, 'live');
    let app: ApplianceProcess;
    let port: number;

    beforeAll(async () => {
      port = await freePort();
      // The broker is away (nothing listens on port 9): the appliance runs without it.
      const config = await writeApplianceConfig(path.join(dir, 'live.yaml'), { dataDir: dataDir(), port });
      // One person enrolled before the appliance starts: it must survive everything below.
      expect((await runCli(['enroll', 'Before', photo(3), '--data-dir', dataDir()])).code).toBe(0);
      app = new ApplianceProcess(config);
      await app.start();
    });
    afterAll(async () => {
      await app?.stop('SIGKILL');
    });

    it('20 CLI enrolments and page uploads at once: 0 lost, the appliance sees the CLI people at once', async () => {
      const web = new AdminClient(`http://127.0.0.1:${port}`);
      await web.setup('a long enough password', app.claimCode());
      const webPeople: string[] = [];
      for (const name of ['Web A', 'Web B']) {
        const res = await web.req('POST', '/api/people', { name });
        expect(res.status).toBe(201);
        webPeople.push(((await res.json()) as { id: string }).id);
      }
      const [cliRuns, uploads] = await Promise.all([
        Promise.all(Array.from({ length: 20 }, (_, i) => runCli(['enroll', `Cli ${i}`, photo(i + 5), '--force', '--data-dir', dataDir(), '--json']))),
        Promise.all(
          webPeople.flatMap((id, k) =>
            [0, 1, 2].map((j) =>
              web
                .upload(id, [photo(k * 3 + j)], { force: true })
                .then(async (r) => ({ status: r.status, body: (await r.json()) as { accepted: number; results: { sampleId?: string }[] } })),
            ),
          ),
        ),
      ]);
      for (const r of cliRuns) {
        expect(r.stderr).toBe('');
        expect(r.code).toBe(0);
        expect(r.json.via).toBe('appliance');
      }
      for (const u of uploads) expect(u).toMatchObject({ status: 200, body: { accepted: 1 } });
      const acked = [
        ...cliRuns.flatMap((r) => r.json.results.map((x: { sampleId: string }) => x.sampleId)),
        ...uploads.map((u) => u.body.results[0]!.sampleId!),
      ];
      expect(acked).toHaveLength(26);

      // The appliance itself lists every CLI person (its page API), and the CLI's list agrees.
      const names = ((await (await web.req('GET', '/api/people')).json()) as { people: { name: string }[] }).people.map((p) => p.name).sort();
      const expected = ['Before', 'Web A', 'Web B', ...Array.from({ length: 20 }, (_, i) => `Cli ${i}`)].sort();
      expect(names).toEqual(expected);
      const listed = await runCli(['people', 'list', '--json', '--data-dir', dataDir()]);
      expect(listed.json.people.map((p: { name: string }) => p.name).sort()).toEqual(expected);

      // A page enrolment after the CLI's must not erase them (the old failure), nor a CLI rename/remove.
      expect((await web.upload(webPeople[0]!, [photo(6)], { force: true })).status).toBe(200);
      expect((await runCli(['people', 'rename', 'Cli 0', 'Cli zero', '--data-dir', dataDir()])).code).toBe(0);
      expect((await runCli(['people', 'rm', 'Cli 1', '--data-dir', dataDir()])).code).toBe(0);
      const after = ((await (await web.req('GET', '/api/people')).json()) as { people: { name: string }[] }).people.map((p) => p.name);
      expect(after).toContain('Cli zero');
      expect(after).not.toContain('Cli 1');

      // Restore would replace the facebank under the appliance: refused in one sentence, nothing changed.
      const backup = await runCli(['backup', path.join(dir, 'live.fgb'), '--data-dir', dataDir(), '--json']);
      expect(backup.json).toMatchObject({ ok: true, people: 22, samples: 27 });
      const restore = await runCli(['restore', path.join(dir, 'alone.fgb'), '--data-dir', dataDir()]);
      expect(restore.code).toBe(1);
      expect(restore.stderr).toMatch(/in use by the running appliance \(facegate run, pid \d+\)\. Stop it first/);

      expect(await app.stop('SIGTERM')).toBe(0);
      const fb = await checkOnDisk(dataDir());
      const kept = new Set(fb.samples.map((s) => s.id));
      const removed = cliRuns[1]!.json.results[0].sampleId;
      for (const id of acked) if (id !== removed) expect(kept.has(id), `sample ${id}`).toBe(true);
      expect(fb.people.map((p) => p.name)).toContain('Before');
    });

    it('a second `facegate run` on the same data directory is refused, naming the first', async () => {
      await app.start();
      const second = await runCli(['run', '--config', app.configFile], { NOTIFY_SOCKET: '' });
      expect(second.code).toBe(1);
      expect(second.stderr).toMatch(/in use by the running appliance \(facegate run, pid \d+\)/);
    });
  });
});
