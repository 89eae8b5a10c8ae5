/**
 * The facebank journal on disk: import of an older facebank.json, files refused on load, a torn tail, a full disk
 * (a real tmpfs), compaction, and what a change costs in bytes.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { appendFile, mkdir, mkdtemp, readFile, readdir, rm, truncate, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/store/facebank-codec.js';
import { loadJournal, loadJournalFile, type LoadedJournal } from '../../src/store/facebank-journal.js';
import { Facebank, readFacebankFiles } from '../../src/store/facebank.js';
import { createLogger } from '../../src/util/log.js';
import type { RgbImage } from '../../src/vision/types.js';
import type { Person } from '../../src/store/types.js';

const quality = { size: 112, score: 0.99, blur: 120, yaw: 3, pitch: -2, roll: 1 };
const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'facegate-fbj-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

const crop = (seed: number): RgbImage => ({ width: 112, height: 112, data: new Uint8Array(112 * 112 * 3).map((_, i) => (i * 7 + seed * 31) % 256) });
const vec = (seed: number) => new Float32Array(128).map((_, i) => Math.sin(seed * 7 + i));
const newSample = (seed: number) => ({ embedding: vec(seed), modelId: 'm1', quality, source: 'cli' as const, crop: crop(seed) });

/** A logger whose lines the test can read. */
function capture() {
  const lines: { msg: string; [k: string]: unknown }[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as { msg: string });
      done();
    },
  });
  return { log: createLogger('info', stream), lines };
}

const P1 = { id: 'p1', name: 'Ada', created: '2026-01-01T00:00:00.000Z', notes: '' };
const S1 = { id: 's1', personId: 'p1', embedding: [0.6, 0.8], modelId: 'm1', quality, source: 'cli', created: '2026-01-01T00:00:00.000Z', negative: false };
const legacyFile = (samples: object[] = [S1], people: object[] = [P1]) => JSON.stringify({ version: 1, seq: 7, people, samples });

describe('facebank.json of the older format', () => {
  it('is imported once into the journal, kept as facebank.json.imported, and said so in the log', async () => {
    const dir = await tmp();
    await mkdir(path.join(dir, 'samples'));
    await writeFile(path.join(dir, 'samples', 's1.jpg'), 'jpeg');
    const orphanOfGone = { ...S1, id: 's2', personId: 'gone' };
    await writeFile(path.join(dir, 'facebank.json'), legacyFile([S1, orphanOfGone]));
    const { log, lines } = capture();
    const fb = new Facebank(dir, { log });
    await fb.open();
    expect(fb.seq).toBe(7);
    expect(await fb.people()).toEqual([P1]);
    const [s] = await fb.samples();
    expect(s!.embedding).toBeInstanceOf(Float32Array);
    expect(Array.from(s!.embedding)).toEqual([Math.fround(0.6), Math.fround(0.8)]);
    expect(lines.some((l) => /imported .*facebank\.json into .*facebank\.journal; the old file is kept as .*facebank\.json\.imported/.test(l.msg))).toBe(true);
    const renamed = await fb.renamePerson('p1', 'Ada Lovelace');
    await fb.close();
    expect((await readdir(dir)).sort()).toEqual(['facebank.journal', 'facebank.json.imported', 'samples']);
    expect(await readFile(path.join(dir, 'facebank.json.imported'), 'utf8')).toBe(legacyFile([S1, orphanOfGone]));
    // Opened again: the journal is the facebank; nothing is imported twice.
    const again = new Facebank(dir, { log });
    await again.open();
    expect(await again.people()).toEqual([renamed]);
    expect(again.seq).toBe(8);
    await again.close();
    expect(lines.filter((l) => /imported/.test(l.msg)).length).toBe(1);
  });

  it('an import cut short by a crash (journal written, old file not yet renamed) is finished at the next open', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'facebank.json'), legacyFile());
    await writeFile(path.join(dir, 'keep.json'), legacyFile());
    const fb = new Facebank(dir);
    await fb.open();
    await fb.close();
    // Put the old file back as a crash before the rename would have left it.
    await rm(path.join(dir, 'facebank.json.imported'));
    await writeFile(path.join(dir, 'facebank.json'), legacyFile());
    const again = new Facebank(dir);
    await again.open();
    expect((await again.people()).map((p) => p.name)).toEqual(['Ada']);
    await again.close();
    expect(existsSync(path.join(dir, 'facebank.json'))).toBe(false);
    expect(existsSync(path.join(dir, 'facebank.json.imported'))).toBe(true);
  });

  it('a different facebank.json beside the journal is refused, not merged and not ignored', async () => {
    const dir = await tmp();
    const fb = new Facebank(dir);
    await fb.open();
    await fb.createPerson('Grace');
    await fb.close();
    await writeFile(path.join(dir, 'facebank.json'), legacyFile());
    const err = await new Facebank(dir).open().catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ code: 'facebank_corrupt' });
    expect((err as Error).message).toContain(path.join(dir, 'facebank.json'));
    expect((err as Error).message).toMatch(/move .* aside/);
  });

  const refusals: [string, string, RegExp][] = [
    ['an embedding replaced by a string', legacyFile([{ ...S1, embedding: 'oops' }]), /samples\[0\]\.embedding: .*expected array/],
    ['a sample whose person id breaks the id rule', legacyFile([{ ...S1, personId: '../etc' }]), /samples\[0\]\.personId: an id of 1 to 80 letters/],
    ['a person without a name', legacyFile([S1], [{ ...P1, name: '' }]), /people\[0\]\.name/],
    ['a repeated sample id', legacyFile([S1, S1]), /samples\[1\]\.id repeats the sample id s1/],
  ];
  for (const [what, text, why] of refusals)
    it(`refuses ${what} with a sentence naming the file, the record and the field; nothing is changed`, async () => {
      const dir = await tmp();
      await writeFile(path.join(dir, 'facebank.json'), text);
      const err = await new Facebank(dir).open().catch((e: unknown) => e as Error);
      expect(err).toMatchObject({ code: 'facebank_corrupt' });
      const msg = (err as Error).message;
      expect(msg).toContain(path.join(dir, 'facebank.json'));
      expect(msg).toMatch(why);
      expect(msg).toMatch(/restore a backup .* or move .* aside/);
      expect(await readFile(path.join(dir, 'facebank.json'), 'utf8')).toBe(text);
      expect(existsSync(path.join(dir, 'facebank.journal'))).toBe(false);
    });
});

describe('the journal', () => {
  it('refuses a frame that passes its checksum but breaks the schema, naming the frame, record and field', async () => {
    const dir = await tmp();
    const fb = new Facebank(dir);
    await fb.open();
    await fb.createPerson('Ada');
    await fb.close();
    const bad = { ...P1, id: 'has a space' };
    await appendFile(path.join(dir, 'facebank.journal'), encodeFrame({ seq: 2, ops: [{ t: 'person', person: bad }] }));
    const before = await readFile(path.join(dir, 'facebank.journal'));
    const err = await new Facebank(dir).open().catch((e: unknown) => e as Error);
    expect(err).toMatchObject({ code: 'facebank_corrupt' });
    expect((err as Error).message).toMatch(/facebank\.journal is refused: frame 2 \(byte \d+\) breaks the schema: ops\[0\]\.person\.id: an id of 1 to 80/);
    expect(await readFile(path.join(dir, 'facebank.journal'))).toEqual(before);
  });

  it('refuses a sample frame whose embedding holds a value that is not a finite number', async () => {
    const dir = await tmp();
    const fb = new Facebank(dir);
    await fb.open();
    const a = await fb.createPerson('Ada');
    await fb.close();
    const sample = { id: 's9', personId: a.id, modelId: 'm1', quality, source: 'cli' as const, created: '2026-01-01T00:00:00.000Z', negative: false };
    const embedding = vec(3);
    embedding[5] = Number.NaN;
    await appendFile(path.join(dir, 'facebank.journal'), encodeFrame({ seq: 2, ops: [{ t: 'sample', sample, embedding }] }));
    await expect(new Facebank(dir).open()).rejects.toThrow(/frame 2 \(byte \d+\) ops\[0\] \(sample s9\)\.embedding\[5\] is not a finite number/);
  });

  it('refuses damage in the middle (a frame failing its checksum with data after it)', async () => {
    const dir = await tmp();
    const fb = new Facebank(dir);
    await fb.open();
    const a = await fb.createPerson('Ada');
    await fb.addSample(a.id, newSample(1));
    await fb.renamePerson(a.id, 'Ada L');
    await fb.close();
    const file = path.join(dir, 'facebank.journal');
    const bytes = await readFile(file);
    bytes[bytes.length - 200]! ^= 0xff; // inside the sample's embedding, the rename frame follows
    await writeFile(file, bytes);
    await expect(new Facebank(dir).open()).rejects.toThrow(/fails its checksum and more data follows/);
  });

  it('cuts off a torn last change at open, logs it, and goes on appending after the last whole change', async () => {
    const dir = await tmp();
    const fb = new Facebank(dir);
    await fb.open();
    const a = await fb.createPerson('Ada');
    await fb.addSample(a.id, newSample(1));
    await fb.close();
    const file = path.join(dir, 'facebank.journal');
    const whole = statSync(file).size;
    // Half of a frame, as a crash in the middle of its write leaves it.
    const frame = encodeFrame({ seq: 3, ops: [{ t: 'person', person: { ...P1, id: 'p9', name: 'Torn' } }] });
    await appendFile(file, frame.subarray(0, 30));
    const { log, lines } = capture();
    const again = new Facebank(dir, { log });
    await again.open();
    expect(statSync(file).size).toBe(whole);
    expect(lines.find((l) => /cut off a torn last change/.test(l.msg))).toMatchObject({ bytes: 30, at: whole });
    expect((await again.people()).map((p) => p.name)).toEqual(['Ada']);
    await again.createPerson('Grace');
    await again.close();
    expect((await readFacebankFiles(dir)).people.map((p) => p.name)).toEqual(['Ada', 'Grace']);
  });

  it('reads the file piece by piece at open: any piece size gives the same records, torn tail and refusals', async () => {
    const dir = await tmp();
    const fb = new Facebank(dir);
    await fb.open();
    const a = await fb.createPerson('Ada');
    for (let i = 0; i < 4; i++) await fb.addSample(a.id, newSample(i));
    await fb.renamePerson(a.id, 'Ada L');
    await fb.close();
    const file = path.join(dir, 'facebank.journal');
    const whole = await readFile(file);
    const torn = encodeFrame({ seq: 9, ops: [{ t: 'person', person: { ...P1, id: 'p9' } }] }).subarray(0, 40);
    await appendFile(file, torn);
    const all = loadJournal(file, await readFile(file));
    const view = (j: LoadedJournal) => ({ seq: j.seq, size: j.size, cut: j.cut, people: [...j.state.people.values()], samples: [...j.state.samples.keys()] });
    expect(view(all)).toMatchObject({ seq: 6, size: whole.length, cut: 40 });
    for (const piece of [1, 7, 64, 1000, 1 << 20]) expect(view((await loadJournalFile(file, piece))!), `pieces of ${piece} bytes`).toEqual(view(all));
    const bad = Buffer.from(whole);
    bad[whole.length - 300]! ^= 0xff; // inside the sample frame before the rename
    await writeFile(file, bad);
    await expect(loadJournalFile(file, 13)).rejects.toThrow(/fails its checksum and more data follows/);
  });

  it('compacts in the background to its records; changes made meanwhile are kept', async () => {
    const dir = await tmp();
    const { log, lines } = capture();
    const fb = new Facebank(dir, { log, compactMinBytes: 20_000 });
    await fb.open();
    const keep = await fb.createPerson('Keep');
    for (let round = 0; round < 4; round++) {
      const gone = await fb.createPerson(`Gone ${round}`);
      for (let i = 0; i < 10; i++) await fb.addSample(gone.id, newSample(i));
      await Promise.all([fb.deletePerson(gone.id), fb.addSample(keep.id, newSample(100 + round)), fb.renamePerson(keep.id, `Keep ${round}`)]);
    }
    await fb.close();
    expect(lines.filter((l) => l.msg === 'facebank: journal compacted').length).toBeGreaterThan(0);
    const size = statSync(path.join(dir, 'facebank.journal')).size;
    // 1 person and 4 samples of 128 values: a few kB, not the 40 samples written.
    expect(size).toBeLessThan(12_000);
    const back = await readFacebankFiles(dir);
    expect(back.people.map((p) => p.name)).toEqual(['Keep 3']);
    expect(back.samples.length).toBe(4);
    expect(back.seq).toBe(1 + 4 * 14);
  });

  it('writes one small frame per change: deleting a person does not rewrite their samples', async () => {
    const dir = await tmp();
    const fb = new Facebank(dir);
    await fb.open();
    const people: Person[] = [];
    for (let p = 0; p < 20; p++) {
      const person = await fb.createPerson(`P ${p}`);
      people.push(person);
      for (let i = 0; i < 3; i++) await fb.addSample(person.id, newSample(p * 3 + i));
    }
    const file = path.join(dir, 'facebank.journal');
    const grow = async (f: () => Promise<unknown>) => {
      const before = statSync(file).size;
      await f();
      return statSync(file).size - before;
    };
    expect(await grow(() => fb.renamePerson(people[3]!.id, 'Renamed'))).toBeLessThan(200);
    expect(await grow(() => fb.deletePerson(people[4]!.id))).toBeLessThan(100);
    expect(await grow(() => fb.addSample(people[5]!.id, newSample(999)))).toBeLessThan(1000);
    await fb.close();
  });
});

/** A real small filesystem (tmpfs; needs root, else skipped) to fill up. */
function mountTmpfs(dir: string, size: string): boolean {
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('a full disk', () => {
  it('refuses the change with facebank_write, leaves memory and disk as they were, and works again once space returns', async (ctx) => {
    const dir = await tmp();
    if (!mountTmpfs(dir, '1m')) return ctx.skip();
    const fb = new Facebank(dir);
    try {
      await fb.open();
      const ada = await fb.createPerson('Ada');
      await fb.addSample(ada.id, newSample(1));
      const file = path.join(dir, 'facebank.journal');
      // End the journal near a page boundary, so the next frame needs a new page.
      for (let i = 0; statSync(file).size % 4096 < 3000; i++) await fb.createPerson(`Pad ${i}`);
      const people = await fb.people();
      const samples = await fb.samples();
      const seq = fb.seq;
      const bytes = await readFile(file);
      // Fill the disk to the last byte.
      const filler = path.join(dir, 'filler');
      await writeFile(filler, '');
      for (let chunk = 65536; chunk >= 1;) {
        try {
          await appendFile(filler, Buffer.alloc(chunk));
        } catch {
          chunk >>= 1;
        }
      }
      const refused = [fb.createPerson('Grace', 'n'.repeat(1500)), fb.addSample(ada.id, newSample(2))];
      for (const r of refused) await expect(r).rejects.toMatchObject({ code: 'facebank_write', message: expect.stringMatching(/ENOSPC.*nothing was changed/) });
      expect(await fb.people()).toEqual(people);
      expect(await fb.samples()).toEqual(samples);
      expect(fb.seq).toBe(seq);
      expect(await readFile(file)).toEqual(bytes);
      expect((await readdir(path.join(dir, 'samples'))).length).toBe(1);
      // Space returns: the next change works and is kept.
      await truncate(filler, 0);
      const grace = await fb.createPerson('Grace');
      await fb.close();
      const back = await readFacebankFiles(dir);
      expect(back.people.map((p) => p.name)).toEqual([...people.map((p) => p.name), grace.name]);
      expect(back.seq).toBe(seq + 1);
    } finally {
      await fb.close();
      execFileSync('umount', ['-l', dir]);
    }
  });
});
