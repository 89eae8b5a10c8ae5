/** The CLI follows the page's name rule: fillers refused, a look-alike spelling of an enrolled name refused, an exact name adds to that person. */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataPath, hasTestData } from '../helpers/data.js';
import { requireBuild, runCli } from '../e2e/appliance.js';

const photo = (who: string, n: number) => dataPath('identity', 'bbt', who, `${who}${n}.png`);

describe.skipIf(!hasTestData)('names in the CLI', { timeout: 180_000 }, () => {
  let dir: string;
  beforeAll(async () => {
    requireBuild();
    dir = await mkdtemp(path.join(os.tmpdir(), 'fg-names-'));
  });
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });
  const cli = (...args: string[]) => runCli([...args, '--data-dir', dir]);

  it('refuses a Cyrillic "Shеldon" beside "Sheldon" and invisible names; an exact name adds to that person', async () => {
    const first = await cli('enroll', 'Sheldon', photo('sheldon', 1), '--json');
    expect(first.code).toBe(0);
    expect(first.json).toMatchObject({ created: true, person: { name: 'Sheldon' } });

    const cyrillic = await cli('enroll', 'Shеldon', photo('sheldon', 2), '--json');
    expect(cyrillic.code).not.toBe(0);
    expect(cyrillic.stdout + cyrillic.stderr).toContain('looks the same as "Sheldon"');

    for (const name of ['\u3164', '\u2800', '\u0301\u0301']) {
      const r = await cli('enroll', name, photo('sheldon', 2), '--json');
      expect(r.code).not.toBe(0);
      expect(r.stdout + r.stderr).toMatch(/invisible|letter or digit/);
    }

    const more = await cli('enroll', 'sheldon', photo('sheldon', 3), '--json');
    expect(more.code).toBe(0);
    expect(more.json).toMatchObject({ created: false, person: { name: 'Sheldon' } });

    const list = await cli('people', 'list', '--json');
    expect(list.json.people).toEqual([expect.objectContaining({ name: 'Sheldon', samples: 2 })]);

    await cli('enroll', 'Raj', photo('raj', 1), '--json');
    const rename = await cli('people', 'rename', 'Raj', 'ЅHELDON', '--json');
    expect(rename.code).not.toBe(0);
    expect(rename.stdout + rename.stderr).toContain('"Sheldon"');
  });

  it('refuses a photo that looks like someone else enrolled, saying who', async () => {
    const r = await cli('enroll', 'Not Raj', photo('raj', 2), '--json');
    expect(r.code).not.toBe(0);
    expect(r.json.results[0]).toMatchObject({ error: 'looks_like_other', message: expect.stringMatching(/looks more like Raj \(\d+ % alike\)/) });
    const list = await cli('people', 'list', '--json');
    expect(list.json.people.map((p: { name: string }) => p.name).sort()).toEqual(['Raj', 'Sheldon']);
  });
});
