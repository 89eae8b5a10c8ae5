import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { backupCommand, restoreCommand } from '../../src/cli/backup.js';
import { createBackup, readLegacyBackup, restoreBackup } from '../../src/store/backup.js';
import { Facebank, readFacebankFiles } from '../../src/store/facebank.js';
import { loadJournal } from '../../src/store/facebank-journal.js';
import { dataPath, hasTestData } from '../helpers/data.js';

/** Temporary directories of this file, removed when it ends. */
const temps: string[] = [];
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  temps.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true });
});

/** Real face JPEGs from LFW when the shared data is there, else JPEGs encoded by sharp from noise. */
async function jpeg(i: number): Promise<Buffer> {
  const lfw = ['Miguel_Aldana_Ibarra', 'Adoor_Gopalakarishnan', 'Alexandre_Herchcovitch'][i % 3]!;
  const file = dataPath('lfw', 'lfw-deepfunneled', lfw, `${lfw}_0001.jpg`);
  if (hasTestData && existsSync(file)) return readFileSync(file);
  const raw = Buffer.alloc(112 * 112 * 3);
  for (let k = 0; k < raw.length; k++) raw[k] = (k * 31 + i * 97) & 255;
  return sharp(raw, { raw: { width: 112, height: 112, channels: 3 } })
    .jpeg()
    .toBuffer();
}

const embedding = () => {
  const v = Array.from({ length: 192 }, () => Math.random() - 0.5);
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

/**
 * Every file under dir (relative path → sha256), so "untouched" can be checked byte for byte; the journal by its
 * records (a restore writes them compacted, without the note of where they were imported from).
 */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = path.join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (name === 'facebank.journal') {
        const { state, seq } = loadJournal(p, readFileSync(p));
        const recs = {
          seq,
          people: [...state.people.values()],
          samples: [...state.samples.values()].map((x) => ({ ...x, embedding: Array.from(x.embedding) })),
        };
        out[path.relative(dir, p)] = createHash('sha256').update(JSON.stringify(recs)).digest('hex');
      } else out[path.relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

/** A data directory of the current layout (facebank.journal), or with `legacy` one still holding a facebank.json. */
async function makeDataDir(people: number, samplesPerPerson: number, extra = true, legacy = false): Promise<string> {
  const dir = tempDir('facegate-data-');
  mkdirSync(path.join(dir, 'samples'));
  const fb = { version: 1, people: [] as object[], samples: [] as object[] };
  for (let p = 0; p < people; p++) {
    const pid = randomUUID();
    fb.people.push({ id: pid, name: `Person ${p}`, created: new Date().toISOString(), notes: p === 0 ? 'front door regular' : '' });
    for (let s = 0; s < samplesPerPerson; s++) {
      const sid = randomUUID();
      fb.samples.push({
        id: sid,
        personId: pid,
        embedding: embedding(),
        modelId: 'mobilefacenet',
        quality: { size: 90 + s, score: 0.99, blur: 120.5, yaw: 3.2, pitch: -1.5, roll: 0.4 },
        source: s === 0 ? 'upload' : 'camera',
        created: new Date().toISOString(),
        negative: false,
      });
      writeFileSync(path.join(dir, 'samples', `${sid}.jpg`), await jpeg(p * samplesPerPerson + s));
    }
  }
  writeFileSync(path.join(dir, 'facebank.json'), JSON.stringify(fb, null, 2));
  if (extra) {
    writeFileSync(path.join(dir, 'auth.json'), JSON.stringify({ passwordHash: 'scrypt$16384$8$1$c2FsdA==$a2V5', tokens: [] }));
    writeFileSync(path.join(dir, 'events.jsonl'), '{"not":"backed up"}\n');
  }
  if (!legacy) {
    const fb = new Facebank(dir);
    await fb.open(); // imports facebank.json
    await fb.close();
  }
  return dir;
}

const sha = (b: Uint8Array | string) => createHash('sha256').update(b).digest('hex');

/**
 * A backup as older facegate wrote them: one gzip'd JSON object. Version 1 (before the journal) of a legacy data
 * directory (facebank.json), version 2 of a journal one (facebank.journal).
 */
function legacyArchive(dir: string, file: string, version: 1 | 2 = 1): void {
  const facebank = version === 1 ? 'facebank.json' : 'facebank.journal';
  const entries = Object.keys(snapshot(dir))
    .filter((p) => p === facebank || p === 'auth.json' || p.startsWith('samples/'))
    .map((p) => [p, readFileSync(path.join(dir, p))] as const);
  const archive = {
    format: 'facegate-backup',
    version,
    created: new Date().toISOString(),
    manifest: entries.map(([p, b]) => ({ path: p, size: b.length, sha256: sha(b) })),
    files: Object.fromEntries(entries.map(([p, b]) => [p, b.toString('base64')])),
  };
  writeFileSync(file, gzipSync(JSON.stringify(archive)));
}

/** A version 3 archive taken apart: its header, its files (header fields and bytes) and its trailer. */
interface Unpacked {
  header: { format: string; version: number; created: string };
  entries: Array<{ path: string; size: number; sha256: string; bytes: Buffer }>;
  trailer: { end: true; files: number; manifest: string };
}

function unpack(file: string): Unpacked {
  const raw = gunzipSync(readFileSync(file));
  let at = raw.indexOf(10) + 1;
  const header = JSON.parse(raw.subarray(0, at - 1).toString('utf8'));
  const entries: Unpacked['entries'] = [];
  for (;;) {
    const nl = raw.indexOf(10, at);
    const head = JSON.parse(raw.subarray(at, nl).toString('utf8'));
    at = nl + 1;
    if (head.end) {
      expect(at).toBe(raw.length);
      return { header, entries, trailer: head };
    }
    entries.push({ ...head, bytes: Buffer.from(raw.subarray(at, at + head.size)) });
    at += head.size;
  }
}

/** Writes `a` back as a version 3 archive; its trailer is made to fit the files unless `trailer` is given. */
function pack(file: string, a: Omit<Unpacked, 'trailer'>, trailer?: Unpacked['trailer']): void {
  const line = (v: unknown) => Buffer.from(`${JSON.stringify(v)}\n`);
  const heads = a.entries.map((e) => line({ path: e.path, size: e.size, sha256: e.sha256 }));
  const end = trailer ?? { end: true, files: heads.length, manifest: sha(Buffer.concat(heads)) };
  writeFileSync(file, gzipSync(Buffer.concat([line(a.header), ...a.entries.flatMap((e, i) => [heads[i]!, e.bytes]), line(end)])));
}

/** The facebank's records as a comparable value. */
const records = async (dir: string) => {
  const fb = await readFacebankFiles(dir);
  return { people: fb.people, samples: fb.samples.map((s) => ({ ...s, embedding: Array.from(s.embedding) })) };
};

const leftovers = (dir: string) => readdirSync(dir).filter((n) => n.startsWith('.restore'));

describe('backup and restore', () => {
  let data: string;
  let archive: string;
  beforeEach(async () => {
    data = await makeDataDir(3, 2);
    archive = path.join(tempDir('facegate-bak-'), 'facebank.fgbak');
  });

  it('round trip: a version 3 archive of every file, and restoring it gives the same bytes back', async () => {
    const before = snapshot(data);
    const s = await createBackup(data, archive);
    const kept = Object.keys(before)
      .filter((f) => f !== 'events.jsonl' && f !== 'facebank.json.imported')
      .sort();
    expect(s).toMatchObject({ people: 3, samples: 6, bytes: statSync(archive).size });
    expect([...s.files].sort()).toEqual(kept);
    expect(existsSync(`${archive}.tmp`)).toBe(false);
    // Streamed: one header line, each file with its size and sha256, a trailer that counts them.
    const a = unpack(archive);
    expect(a.header).toMatchObject({ format: 'facegate-backup', version: 3 });
    expect(a.entries.map((e) => e.path).sort()).toEqual(kept);
    for (const e of a.entries.filter((x) => x.path !== 'facebank.journal')) expect(e.bytes).toEqual(readFileSync(path.join(data, e.path)));
    expect(a.trailer.files).toBe(kept.length);

    // A different facebank in the same place (other people, other crops, other auth).
    const other = await makeDataDir(1, 1);
    for (const f of readdirSync(path.join(data, 'samples'))) writeFileSync(path.join(data, 'samples', f), 'x');
    writeFileSync(path.join(data, 'facebank.journal'), readFileSync(path.join(other, 'facebank.journal')));
    writeFileSync(path.join(data, 'auth.json'), '{}');
    writeFileSync(path.join(data, 'samples', 'stray.jpg'), 'stray');

    const r = await restoreBackup(data, archive);
    expect(r).toMatchObject({ people: 3, samples: 6, created: a.header.created });
    expect([...r.files].sort()).toEqual(kept);
    expect(snapshot(data)).toEqual(before); // people, samples, crops and auth.json; stray crop gone, events.jsonl untouched
    expect(leftovers(data)).toEqual([]);
  });

  it('refuses a backup with one corrupt byte and leaves the data untouched', async () => {
    await createBackup(data, archive);
    const bytes = readFileSync(archive);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x5a;
    writeFileSync(archive, bytes);
    const before = snapshot(data);
    await expect(restoreBackup(data, archive)).rejects.toThrow(/backup refused: .*damaged.*data directory was not changed/);
    expect(snapshot(data)).toEqual(before);
    expect(leftovers(data)).toEqual([]);
  });

  it.each([0.1, 0.5, 0.7, 0.99])('refuses a backup cut at %d of its length and leaves the data untouched', async (at) => {
    await createBackup(data, archive);
    const bytes = readFileSync(archive);
    writeFileSync(archive, bytes.subarray(0, Math.floor(bytes.length * at)));
    const before = snapshot(data);
    await expect(restoreBackup(data, archive)).rejects.toThrow(/^backup refused: the file is truncated; the data directory was not changed$/);
    expect(snapshot(data)).toEqual(before);
    expect(leftovers(data)).toEqual([]);
  });

  it('refuses an archive cut before its trailer even when its gzip is whole', async () => {
    await createBackup(data, archive);
    const a = unpack(archive);
    const line = (v: unknown) => Buffer.from(`${JSON.stringify(v)}\n`);
    const whole = a.entries.slice(0, 3).flatMap((e) => [line({ path: e.path, size: e.size, sha256: e.sha256 }), e.bytes]);
    writeFileSync(archive, gzipSync(Buffer.concat([line(a.header), ...whole])));
    const before = snapshot(data);
    await expect(restoreBackup(data, archive)).rejects.toThrow(
      /backup refused: the file is truncated: it ends before its trailer; the data directory was not changed/,
    );
    expect(snapshot(data)).toEqual(before);
    expect(leftovers(data)).toEqual([]);
  });

  /** Re-packs a valid backup after `edit` changed its files (gzip then is intact: the inner checks must catch it). */
  const repack = (edit: (a: Unpacked) => void) => {
    const a = unpack(archive);
    edit(a);
    pack(archive, a);
  };
  type Edit = Parameters<typeof repack>[0];
  const firstCrop = (a: Unpacked) => a.entries.find((e) => e.path.startsWith('samples/'))!;

  it.each<[string, RegExp, Edit]>([
    [
      'a crop with one flipped byte',
      /^backup refused: samples\/[0-9a-f-]+\.jpg is damaged: it fails its sha256 check; the data directory was not changed$/,
      (a) => {
        firstCrop(a).bytes[100]! ^= 1;
      },
    ],
    [
      'a missing crop',
      /sample .* has no crop/,
      (a) => {
        a.entries = a.entries.filter((e) => e !== firstCrop(a));
      },
    ],
    [
      'a journal that breaks the schema',
      /facebank\.journal is not valid: frame \d+ \(byte \d+\) breaks the schema: ops\[0\]\.sample\.personId/,
      (a) => {
        // The first sample's person id replaced by one that breaks the id rule, checksums fixed up.
        const j = a.entries.find((e) => e.path === 'facebank.journal')!;
        const text = j.bytes.toString('latin1');
        const pid = /"personId":"([^"]+)"/.exec(text)![1]!;
        const bad = Buffer.from(text.replace(`"personId":"${pid}"`, `"personId":"${'../'.repeat(12)}`.slice(0, pid.length + 13) + '"'), 'latin1');
        let at = 8;
        while (at < bad.length) {
          const len = bad.readUInt32LE(at);
          bad.writeUInt32LE(crc32(bad.subarray(at + 8, at + 8 + len)), at + 4);
          at += 8 + len;
        }
        Object.assign(j, { bytes: bad, size: bad.length, sha256: sha(bad) });
      },
    ],
    [
      'a path outside the data directory',
      /^backup refused: the archive is damaged: a file header is not valid \(path: not a file a backup may contain\); the data directory was not changed$/,
      (a) => {
        a.entries.splice(1, 0, { path: '../../etc/evil', size: 4, sha256: sha('evil'), bytes: Buffer.from('evil') });
      },
    ],
    [
      'a file named twice',
      /samples\/.* is listed twice/,
      (a) => {
        a.entries.push(firstCrop(a));
      },
    ],
    [
      'a crop that is not a JPEG',
      /samples\/.*\.jpg is not a JPEG/,
      (a) => {
        const c = firstCrop(a);
        c.bytes = Buffer.from('not a jpeg');
        Object.assign(c, { size: c.bytes.length, sha256: sha(c.bytes) });
      },
    ],
  ])('refuses %s and leaves the data untouched', async (_what, message, edit) => {
    await createBackup(data, archive);
    repack(edit);
    const before = snapshot(data);
    await expect(restoreBackup(data, archive)).rejects.toThrow(message);
    expect(snapshot(data)).toEqual(before);
    expect(leftovers(data)).toEqual([]);
    expect(existsSync(path.join(data, 'etc'))).toBe(false);
  });

  it('refuses an archive whose trailer does not match its files, or has data after it', async () => {
    await createBackup(data, archive);
    const a = unpack(archive);
    pack(archive, a, { ...a.trailer, files: a.trailer.files + 1 });
    await expect(restoreBackup(data, archive)).rejects.toThrow(/its trailer counts \d+ files, it holds \d+; the data directory was not changed/);
    pack(archive, a, { ...a.trailer, manifest: sha('another list') });
    await expect(restoreBackup(data, archive)).rejects.toThrow(/its list of files fails its sha256 check/);
    pack(archive, a);
    writeFileSync(archive, gzipSync(Buffer.concat([gunzipSync(readFileSync(archive)), Buffer.from('more')])));
    await expect(restoreBackup(data, archive)).rejects.toThrow(/data follows its trailer/);
    expect(leftovers(data)).toEqual([]);
  });

  it('refuses an archive of a newer version, and a refused restore does not create the data directory', async () => {
    await createBackup(data, archive);
    const a = unpack(archive);
    pack(archive, { ...a, header: { ...a.header, version: 4 } });
    const fresh = path.join(tempDir('facegate-new-'), 'data');
    await expect(restoreBackup(fresh, archive)).rejects.toThrow(/it is a version 4 archive, and this facegate reads versions 1 to 3/);
    await createBackup(data, archive);
    writeFileSync(archive, readFileSync(archive).subarray(0, 200));
    await expect(restoreBackup(fresh, archive)).rejects.toThrow(/truncated/);
    expect(existsSync(fresh)).toBe(false);
  });

  it('restores a version 2 archive made by the old writer', async () => {
    const before = snapshot(data);
    legacyArchive(data, archive, 2);
    const other = await makeDataDir(1, 1);
    const r = await restoreBackup(other, archive);
    expect(r).toMatchObject({ people: 3, samples: 6 });
    const { 'facebank.json.imported': _imported, 'events.jsonl': _events, ...want } = before;
    const { 'facebank.json.imported': _i2, 'events.jsonl': _e2, ...got } = snapshot(other);
    expect(got).toEqual(want);
    expect(leftovers(other)).toEqual([]);
  });

  it('refuses a version 2 archive that decompresses past the bound, without reading it whole', async () => {
    legacyArchive(data, archive, 2);
    const other = await makeDataDir(1, 1);
    const before = snapshot(other);
    await expect(restoreBackup(other, archive, { legacyMaxBytes: 4096 })).rejects.toThrow(
      /^backup refused: it is an old-format \(version 1 or 2\) archive that decompresses to more than 4\.1 kB, more than facegate reads in that format; the data directory was not changed$/,
    );
    expect(snapshot(other)).toEqual(before);
  });

  it('refuses a file that is not a backup at all', async () => {
    expect(() => readLegacyBackup(Buffer.from('hello, not gzip'))).toThrow(/not a facegate backup|damaged/);
    expect(() => readLegacyBackup(gzipSync('{"format":"zip"}'))).toThrow(/not a facegate backup of version 1, 2 or 3/);
    writeFileSync(archive, 'hello, not gzip');
    await expect(restoreBackup(data, archive)).rejects.toThrow(/damaged or not a facegate backup.*data directory was not changed/);
  });

  it('a backup that fails leaves no archive under its name', async () => {
    const sample = readdirSync(path.join(data, 'samples'))[0]!;
    rmSync(path.join(data, 'samples', sample));
    await expect(createBackup(data, archive)).rejects.toThrow(/has no crop/);
    expect(readdirSync(path.dirname(archive))).toEqual([]);
  });

  it('refuses to back up a data directory without a facebank', async () => {
    const empty = tempDir('facegate-empty-');
    await expect(createBackup(empty, archive)).rejects.toThrow(/nothing to back up/);
    expect(existsSync(archive)).toBe(false);
  });

  it('restores into an empty data directory, without an auth.json in the backup', async () => {
    const plain = await makeDataDir(2, 1, false);
    await createBackup(plain, archive);
    const fresh = path.join(tempDir('facegate-new-'), 'data');
    await restoreBackup(fresh, archive);
    const { 'facebank.json.imported': _imported, ...current } = snapshot(plain);
    expect(snapshot(fresh)).toEqual(current);
  });

  it('restores a backup of the older format (version 1, facebank.json) into the journal layout', async () => {
    const old = await makeDataDir(2, 2, true, true);
    legacyArchive(old, archive);
    const want = await records(old);
    const r = await restoreBackup(data, archive);
    expect(r).toMatchObject({ people: 2, samples: 4 });
    expect(await records(data)).toEqual(want);
    expect(existsSync(path.join(data, 'facebank.json'))).toBe(false);
    for (const s of want.samples)
      expect(readFileSync(path.join(data, 'samples', `${s.id}.jpg`))).toEqual(readFileSync(path.join(old, 'samples', `${s.id}.jpg`)));
    // It opens as a facebank.
    const fb = new Facebank(data);
    await fb.open();
    expect((await fb.people()).length).toBe(2);
    await fb.close();
  });

  it('refuses a version-1 backup whose facebank.json breaks the schema (an embedding replaced by a string)', async () => {
    const old = await makeDataDir(1, 1, false, true);
    const fb = JSON.parse(readFileSync(path.join(old, 'facebank.json'), 'utf8'));
    fb.samples[0].embedding = 'oops';
    writeFileSync(path.join(old, 'facebank.json'), JSON.stringify(fb));
    legacyArchive(old, archive);
    const before = snapshot(data);
    await expect(restoreBackup(data, archive)).rejects.toThrow(/facebank\.json is not valid: .*samples\[0\]\.embedding/);
    expect(snapshot(data)).toEqual(before);
  });

  it('backs up a data directory whose facebank.json was never imported, and the restore is the same facebank', async () => {
    const old = await makeDataDir(2, 1, false, true);
    await createBackup(old, archive);
    const fresh = path.join(tempDir('facegate-new-'), 'data');
    await restoreBackup(fresh, archive);
    expect(await records(fresh)).toEqual(await records(old));
  });

  it('facegate backup / restore commands', async () => {
    const out: string[] = [];
    const io = { stdout: (l: string) => out.push(l), stderr: (l: string) => out.push(l) };
    expect(await backupCommand.run({ values: { 'data-dir': data, json: true }, positionals: [archive] }, io)).toBe(0);
    expect(JSON.parse(out.pop()!)).toMatchObject({ ok: true, people: 3, samples: 6 });
    const before = snapshot(data);
    writeFileSync(path.join(data, 'facebank.json'), JSON.stringify({ version: 1, people: [], samples: [] }));
    // A facebank.json not yet imported is replaced by the restore too.
    expect(await restoreCommand.run({ values: { 'data-dir': data }, positionals: [archive] }, io)).toBe(0);
    expect(out.pop()).toMatch(/^Restored 3 people and 6 samples/);
    expect(snapshot(data)).toEqual(before);
    await expect(restoreCommand.run({ values: { 'data-dir': data }, positionals: [] }, io)).rejects.toThrow(/exactly one file/);
  });
});
