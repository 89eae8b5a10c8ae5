import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32, gunzipSync, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { beforeEach, describe, expect, it } from 'vitest';
import { backupCommand, restoreCommand } from '../../src/cli/backup.js';
import { createBackup, readBackup, restoreBackup } from '../../src/store/backup.js';
import { Facebank, readFacebankFiles } from '../../src/store/facebank.js';
import { loadJournal } from '../../src/store/facebank-journal.js';
import { dataPath, hasTestData } from '../helpers/data.js';

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
  const dir = mkdtempSync(path.join(tmpdir(), 'facegate-data-'));
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

/** A backup as facegate wrote them before the journal (version 1: facebank.json), of a legacy data directory. */
function legacyArchive(dir: string, file: string): void {
  const entries = Object.keys(snapshot(dir))
    .filter((p) => p === 'facebank.json' || p === 'auth.json' || p.startsWith('samples/'))
    .map((p) => [p, readFileSync(path.join(dir, p))] as const);
  const archive = {
    format: 'facegate-backup',
    version: 1,
    created: new Date().toISOString(),
    manifest: entries.map(([p, b]) => ({ path: p, size: b.length, sha256: createHash('sha256').update(b).digest('hex') })),
    files: Object.fromEntries(entries.map(([p, b]) => [p, b.toString('base64')])),
  };
  writeFileSync(file, gzipSync(JSON.stringify(archive)));
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
    archive = path.join(mkdtempSync(path.join(tmpdir(), 'facegate-bak-')), 'facebank.fgbak');
  });

  it('round trip: backup, change everything, restore gives the same bytes back', async () => {
    const before = snapshot(data);
    const s = await createBackup(data, archive);
    expect(s).toMatchObject({ people: 3, samples: 6 });
    expect(s.files.sort()).toEqual(
      Object.keys(before)
        .filter((f) => f !== 'events.jsonl' && f !== 'facebank.json.imported')
        .sort(),
    );

    // A different facebank in the same place (other people, other crops, other auth).
    const other = await makeDataDir(1, 1);
    for (const f of readdirSync(path.join(data, 'samples'))) writeFileSync(path.join(data, 'samples', f), 'x');
    writeFileSync(path.join(data, 'facebank.journal'), readFileSync(path.join(other, 'facebank.journal')));
    writeFileSync(path.join(data, 'auth.json'), '{}');
    writeFileSync(path.join(data, 'samples', 'stray.jpg'), 'stray');

    const r = await restoreBackup(data, archive);
    expect(r).toMatchObject({ people: 3, samples: 6 });
    expect(snapshot(data)).toEqual(before); // stray crop gone, events.jsonl untouched
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

  it('refuses a truncated backup and leaves the data untouched', async () => {
    await createBackup(data, archive);
    const bytes = readFileSync(archive);
    writeFileSync(archive, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
    const before = snapshot(data);
    await expect(restoreBackup(data, archive)).rejects.toThrow(/backup refused: the file is truncated/);
    expect(snapshot(data)).toEqual(before);
    expect(leftovers(data)).toEqual([]);
  });

  /** Re-packs a valid backup after `edit` changed its JSON (gzip then is intact: the inner checks must catch it). */
  const repack = (edit: (a: { manifest: Array<{ path: string; size: number; sha256: string }>; files: Record<string, string> }) => void) => {
    const a = JSON.parse(gunzipSync(readFileSync(archive)).toString('utf8'));
    edit(a);
    writeFileSync(archive, gzipSync(JSON.stringify(a)));
  };

  it.each([
    [
      'a crop whose bytes do not match its sha256',
      /fails its sha256 check/,
      (a: Parameters<Parameters<typeof repack>[0]>[0]) => {
        const p = a.manifest.find((m) => m.path.startsWith('samples/'))!.path;
        const b = Buffer.from(a.files[p]!, 'base64');
        b[b.length - 10]! ^= 1;
        a.files[p] = b.toString('base64');
      },
    ],
    [
      'a missing crop',
      /sample .* has no crop/,
      (a: Parameters<Parameters<typeof repack>[0]>[0]) => {
        const p = a.manifest.find((m) => m.path.startsWith('samples/'))!.path;
        a.manifest = a.manifest.filter((m) => m.path !== p);
        delete a.files[p];
      },
    ],
    [
      'a journal that breaks the schema',
      /facebank\.journal is not valid: frame \d+ \(byte \d+\) breaks the schema: ops\[0\]\.sample\.personId/,
      (a: Parameters<Parameters<typeof repack>[0]>[0]) => {
        // The first sample's person id replaced by one that breaks the id rule, checksums fixed up.
        const b = Buffer.from(a.files['facebank.journal']!, 'base64');
        const text = b.toString('latin1');
        const pid = /"personId":"([^"]+)"/.exec(text)![1]!;
        const bad = Buffer.from(text.replace(`"personId":"${pid}"`, `"personId":"${'../'.repeat(12)}`.slice(0, pid.length + 13) + '"'), 'latin1');
        let at = 8;
        while (at < bad.length) {
          const len = bad.readUInt32LE(at);
          bad.writeUInt32LE(crc32(bad.subarray(at + 8, at + 8 + len)), at + 4);
          at += 8 + len;
        }
        a.files['facebank.journal'] = bad.toString('base64');
        const m = a.manifest.find((x) => x.path === 'facebank.journal')!;
        m.size = bad.length;
        m.sha256 = createHash('sha256').update(bad).digest('hex');
      },
    ],
    [
      'a path outside the data directory',
      /not a file a backup may contain/,
      (a: Parameters<Parameters<typeof repack>[0]>[0]) => {
        a.manifest.push({ path: '../../etc/evil', size: 0, sha256: createHash('sha256').update('').digest('hex') });
        a.files['../../etc/evil'] = '';
      },
    ],
  ])('refuses %s', async (_what, message, edit) => {
    await createBackup(data, archive);
    repack(edit);
    const before = snapshot(data);
    await expect(restoreBackup(data, archive)).rejects.toThrow(message);
    expect(snapshot(data)).toEqual(before);
    expect(leftovers(data)).toEqual([]);
  });

  it('refuses a file that is not a backup at all', () => {
    expect(() => readBackup(Buffer.from('hello, not gzip'))).toThrow(/not a facegate backup|damaged/);
    expect(() => readBackup(gzipSync('{"format":"zip"}'))).toThrow(/not a facegate backup version 1 or 2/);
  });

  it('refuses to back up a data directory without a facebank', async () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'facegate-empty-'));
    await expect(createBackup(empty, archive)).rejects.toThrow(/nothing to back up/);
    expect(existsSync(archive)).toBe(false);
  });

  it('restores into an empty data directory, without an auth.json in the backup', async () => {
    const plain = await makeDataDir(2, 1, false);
    await createBackup(plain, archive);
    const fresh = path.join(mkdtempSync(path.join(tmpdir(), 'facegate-new-')), 'data');
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
    const fresh = path.join(mkdtempSync(path.join(tmpdir(), 'facegate-new-')), 'data');
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
