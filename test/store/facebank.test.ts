import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Facebank, readFacebankFiles, type FacebankChange } from '../../src/store/facebank.js';
import { Bus } from '../../src/events/bus.js';
import type { RgbImage } from '../../src/vision/types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repo = path.resolve(here, '../..');
const quality = { size: 112, score: 0.99, blur: 120, yaw: 3, pitch: -2, roll: 1 };
const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'facegate-fb-'));
  dirs.push(d);
  return d;
};
afterAll(async () => {
  await Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true })));
});

/** A 112x112 crop: a colour gradient plus a block, so JPEG has something to encode. */
function crop(seed: number): RgbImage {
  const data = new Uint8Array(112 * 112 * 3);
  for (let y = 0; y < 112; y++)
    for (let x = 0; x < 112; x++) {
      const o = (y * 112 + x) * 3;
      data[o] = (x * 2 + seed * 40) % 256;
      data[o + 1] = (y * 2 + seed * 10) % 256;
      data[o + 2] = x > 40 && x < 70 && y > 40 && y < 70 ? 250 : (seed * 70) % 256;
    }
  return { width: 112, height: 112, data };
}
const vec = (seed: number) => new Float32Array(192).map((_, i) => Math.sin(seed * 7 + i));
const newSample = (seed: number, extra: object = {}) => ({ embedding: vec(seed), modelId: 'm1', quality, source: 'cli' as const, crop: crop(seed), ...extra });

const readRaw = readFacebankFiles;

describe('Facebank', () => {
  it('creates, finds, renames people; duplicate names (any case) are conflicts', async () => {
    const fb = new Facebank(await tmp());
    await fb.open();
    const a = await fb.createPerson('  Ada   Lovelace ', 'math');
    expect(a.name).toBe('Ada Lovelace');
    expect(await fb.findByName('ada lovelace')).toEqual(a);
    await expect(fb.createPerson('ADA LOVELACE')).rejects.toMatchObject({ code: 'conflict' });
    const b = await fb.createPerson('Grace');
    await expect(fb.renamePerson(b.id, 'ada lovelace')).rejects.toMatchObject({ code: 'conflict' });
    expect((await fb.renamePerson(b.id, 'Grace Hopper')).name).toBe('Grace Hopper');
    await expect(fb.renamePerson('nope', 'x')).rejects.toMatchObject({ code: 'not_found' });
    await expect(fb.createPerson('   ')).rejects.toMatchObject({ code: 'bad_name' });
    expect((await fb.people()).map((p) => p.name)).toEqual(['Ada Lovelace', 'Grace Hopper']);
    await fb.close();
    await expect(fb.people()).rejects.toMatchObject({ code: 'facebank_closed' });
  });

  it('stores samples with normalised embeddings and JPEG crops; persists across reopen', async () => {
    const dir = await tmp();
    const bus = new Bus();
    let changes = 0;
    bus.on('facebankChanged', () => changes++);
    const fb = new Facebank(dir, { bus });
    await fb.open();
    const p = await fb.createPerson('Ada');
    const s = await fb.addSample(p.id, newSample(1, { negative: true }));
    expect(changes).toBe(2);
    const norm = Math.hypot(...s.embedding);
    expect(norm).toBeCloseTo(1, 6);
    const v = vec(1);
    const vn = Math.hypot(...v);
    s.embedding.forEach((x, i) => expect(x).toBeCloseTo(v[i]! / vn, 6));
    expect(s.negative).toBe(true);
    const meta = await sharp(fb.cropPath(s.id)).metadata();
    expect(meta).toMatchObject({ format: 'jpeg', width: 112, height: 112 });
    const back = await fb.readCrop(s.id);
    let diff = 0;
    const c = crop(1);
    for (let i = 0; i < c.data.length; i++) diff += Math.abs(c.data[i]! - back.data[i]!);
    expect(diff / c.data.length).toBeLessThan(6);
    await fb.close();
    const again = new Facebank(dir);
    await again.open();
    expect(await again.samples(p.id)).toEqual([s]);
    await again.close();
    expect(() => fb.cropPath('../facebank')).toThrow(/letters, digits/);
  });

  it('rejects bad samples with clear errors', async () => {
    const fb = new Facebank(await tmp());
    await fb.open();
    const p = await fb.createPerson('Ada');
    await expect(fb.addSample('missing', newSample(1))).rejects.toMatchObject({ code: 'not_found' });
    await expect(fb.addSample(p.id, newSample(1, { embedding: new Float32Array(192) }))).rejects.toMatchObject({ code: 'invalid' });
    await expect(fb.addSample(p.id, newSample(1, { crop: { width: 10, height: 10, data: new Uint8Array(5) } }))).rejects.toMatchObject({ code: 'invalid' });
    expect(await fb.samples()).toEqual([]);
    await fb.close();
  });

  it('loses nothing with 20 concurrent addSample calls for one person', async () => {
    const dir = await tmp();
    const fb = new Facebank(dir);
    await fb.open();
    const p = await fb.createPerson('Ada');
    const added = await Promise.all(Array.from({ length: 20 }, (_, i) => fb.addSample(p.id, newSample(i))));
    expect(new Set(added.map((s) => s.id)).size).toBe(20);
    expect((await fb.samples(p.id)).length).toBe(20);
    await fb.close();
    const raw = await readRaw(dir);
    expect(raw.samples.map((s) => s.id).sort()).toEqual(added.map((s) => s.id).sort());
    expect((await readdir(path.join(dir, 'samples'))).length).toBe(20);
  });

  it('deletes a person with their samples and crops; deletes single samples', async () => {
    const dir = await tmp();
    const fb = new Facebank(dir);
    await fb.open();
    const a = await fb.createPerson('Ada');
    const b = await fb.createPerson('Bob');
    const [s1, s2] = await Promise.all([fb.addSample(a.id, newSample(1)), fb.addSample(a.id, newSample(2))]);
    const s3 = await fb.addSample(b.id, newSample(3));
    await fb.deleteSample(s2!.id);
    expect(existsSync(fb.cropPath(s2!.id))).toBe(false);
    await fb.deletePerson(a.id);
    expect(existsSync(fb.cropPath(s1!.id))).toBe(false);
    expect(await fb.person(a.id)).toBeNull();
    expect((await fb.samples()).map((s) => s.id)).toEqual([s3.id]);
    await expect(fb.deleteSample(s1!.id)).rejects.toMatchObject({ code: 'not_found' });
    await fb.close();
  });

  it('removes orphan crops and temp files at open', async () => {
    const dir = await tmp();
    const fb = new Facebank(dir);
    await fb.open();
    const a = await fb.createPerson('Ada');
    const s = await fb.addSample(a.id, newSample(1));
    await fb.close();
    await writeFile(path.join(dir, 'samples', 'orphan.jpg'), 'x');
    await writeFile(path.join(dir, '.facebank.journal.0123456789ab.tmp'), 'half');
    await writeFile(path.join(dir, '.facebank.json.0123456789ab.tmp'), '{"half');
    const again = new Facebank(dir);
    await again.open();
    expect(await readdir(path.join(dir, 'samples'))).toEqual([`${s.id}.jpg`]);
    expect((await readdir(dir)).sort()).toEqual(['facebank.journal', 'samples']);
    expect((await again.samples()).map((x) => x.id)).toEqual([s.id]);
    await again.close();
  });

  it('refuses a facebank.json that is not JSON with a clear error, and changes nothing', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'facebank.json'), '{"people": [');
    await expect(new Facebank(dir).open()).rejects.toMatchObject({ code: 'facebank_corrupt', message: expect.stringContaining('is not valid JSON') });
    expect(await readFile(path.join(dir, 'facebank.json'), 'utf8')).toBe('{"people": [');
    expect(existsSync(path.join(dir, 'facebank.journal'))).toBe(false);
  });

  it('re-embeds samples of another model from their stored crops', async () => {
    const dir = await tmp();
    const fb = new Facebank(dir);
    await fb.open();
    const a = await fb.createPerson('Ada');
    for (let i = 0; i < 5; i++) await fb.addSample(a.id, newSample(i, { modelId: i < 4 ? 'old' : 'new' }));
    const batches: number[] = [];
    // A toy embedder: mean R, G, B of the crop and a constant; it proves the crops are decoded right.
    const embed = async (crops: RgbImage[]) => {
      batches.push(crops.length);
      return crops.map((c) => {
        const m = [0, 0, 0];
        for (let i = 0; i < c.data.length; i++) m[i % 3]! += c.data[i]!;
        expect([c.width, c.height]).toEqual([112, 112]);
        return Float32Array.from([...m.map((x) => x / (c.width * c.height)), 100]);
      });
    };
    const r = await fb.reembed('new', embed, 3);
    expect(r).toEqual({ updated: 4, failed: [] });
    expect(batches).toEqual([3, 1]);
    await fb.close();
    const again = new Facebank(dir);
    await again.open();
    const samples = await again.samples();
    const moved = samples.filter((s) => s.embedding.length === 4);
    expect(moved.length).toBe(4);
    expect(samples.every((s) => s.modelId === 'new')).toBe(true);
    for (const s of moved) {
      const seed = [0, 1, 2, 3].find((i) => {
        const c = crop(i);
        const m = [0, 0, 0];
        for (let k = 0; k < c.data.length; k++) m[k % 3]! += c.data[k]!;
        const v = [...m.map((x) => x / (112 * 112)), 100];
        const n = Math.hypot(...v);
        return v.every((x, k) => Math.abs(x / n - s.embedding[k]!) < 0.01);
      });
      expect(seed).toBeDefined();
    }
    expect(await again.reembed('new', embed)).toEqual({ updated: 0, failed: [] });
    await again.close();
  });
});

describe('Facebank change path', () => {
  it('reports every committed change in order with a persisted sequence number (what a replica would apply)', async () => {
    const dir = await tmp();
    const changes: FacebankChange[] = [];
    const bus = new Bus();
    bus.on('facebankChanged', (c) => changes.push(c));
    const fb = new Facebank(dir, { bus });
    await fb.open();
    const p = await fb.createPerson('Ada');
    const s = await fb.addSample(p.id, newSample(1));
    await fb.renamePerson(p.id, 'Ada Lovelace');
    await expect(fb.renamePerson(p.id, 'Ada Lovelace')).resolves.toMatchObject({ name: 'Ada Lovelace' });
    await fb.deleteSample(s.id);
    await fb.deletePerson(p.id);
    expect(changes.map((c) => [c.seq, c.op])).toEqual([
      [1, 'person.create'],
      [2, 'sample.add'],
      [3, 'person.rename'],
      [4, 'sample.delete'],
      [5, 'person.delete'],
    ]);
    await fb.close();
    const again = new Facebank(dir, { bus });
    await again.open();
    expect(again.seq).toBe(5);
    await again.createPerson('Grace');
    expect(changes.at(-1)).toMatchObject({ seq: 6, op: 'person.create', person: { name: 'Grace' } });
    await again.close();
  });

  it('applies a batch of records from elsewhere as one change, in order; orphans are returned; a bad record refuses the batch', async () => {
    const dir = await tmp();
    const changes: FacebankChange[] = [];
    const bus = new Bus();
    bus.on('facebankChanged', (c) => changes.push(c));
    const fb = new Facebank(dir, { bus });
    await fb.open();
    const local = await fb.createPerson('Local');
    const kept = await fb.addSample(local.id, newSample(1));
    const jpeg = await readFile(fb.cropPath(kept.id));
    const person = { id: 'remote-1', name: '  Remote   One ', created: '2026-01-01T00:00:00.000Z', notes: '' };
    const sample = (id: string, personId: string) => ({ ...kept, id, personId, embedding: vec(Number(id.slice(-1))) });
    const r = await fb.applyBatch([
      { op: 'person', person },
      { op: 'sample', sample: sample('rs-1', 'remote-1'), jpeg },
      { op: 'sample', sample: sample('rs-2', 'remote-1'), jpeg },
      { op: 'sample', sample: sample('rs-3', 'nobody-here'), jpeg },
      { op: 'sample.delete', id: 'rs-2' },
      { op: 'person.delete', id: local.id },
    ]);
    expect(r).toEqual({ orphans: ['rs-3'] });
    expect(changes.slice(2).map((c) => [c.seq, c.op, c.remote])).toEqual([[3, 'replace', true]]);
    expect((await fb.people()).map((p) => p.name)).toEqual(['Remote One']);
    expect((await fb.samples()).map((s) => s.id)).toEqual(['rs-1']);
    expect((await readdir(path.join(dir, 'samples'))).sort()).toEqual(['rs-1.jpg']);
    const bad = { ...sample('rs-4', 'remote-1'), created: 'yesterday' };
    await expect(fb.applyBatch([{ op: 'sample', sample: bad, jpeg }])).rejects.toMatchObject({ code: 'invalid', message: expect.stringContaining('created') });
    expect(fb.seq).toBe(3);
    await fb.close();
    const back = await readRaw(dir);
    expect(back.samples.map((s) => s.id)).toEqual(['rs-1']);
    expect(back.people.map((p) => p.id)).toEqual(['remote-1']);
  });

  it('read-only: reads without the lock while a writer holds it, refuses changes, repairs nothing', async () => {
    const dir = await tmp();
    const fb = new Facebank(dir);
    await fb.open();
    await fb.createPerson('Ada');
    const ro = new Facebank(dir, { readOnly: true });
    await ro.open();
    expect((await ro.people()).map((p) => p.name)).toEqual(['Ada']);
    await expect(ro.createPerson('Eve')).rejects.toMatchObject({ code: 'facebank_read_only' });
    await ro.close();
    await fb.close();
  });
});

describe('Facebank crash safety (SIGKILL during enrolment)', () => {
  let child = '';
  beforeAll(async () => {
    const out = path.join(repo, 'node_modules', '.cache', 'facegate-test');
    await mkdir(out, { recursive: true });
    child = path.join(out, `enrol-child-${process.pid}.mjs`);
    await build({
      entryPoints: [path.join(here, 'fixtures', 'enrol-child.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      packages: 'external',
      outfile: child,
      logLevel: 'warning',
    });
  });
  afterAll(async () => {
    if (child) await rm(child, { force: true });
  });

  const runAndKill = (dir: string, log: string, afterReadyMs: number) =>
    new Promise<void>((resolve, reject) => {
      const p = spawn(process.execPath, [child, dir, log, '30000'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      p.stderr.on('data', (d) => (err += d));
      p.stdout.once('data', () => setTimeout(() => p.kill('SIGKILL'), afterReadyMs));
      p.on('exit', (code, signal) => (signal === 'SIGKILL' ? resolve() : reject(new Error(`child exited ${code}: ${err}`))));
    });

  /** What the log says must be in the facebank: acknowledged samples and names no later attempt may have undone. */
  function mustHave(lines: string[]) {
    const samples = new Map<string, string>();
    const people = new Set<string>();
    const names = new Map<string, Set<string>>();
    const doomed = new Set<string>();
    let seq = 0;
    for (const line of lines) {
      const w = line.split(' ');
      if (w[0] === 'ack' && w[1] === 'person') people.add(w[2]!);
      if (w[0] === 'ack' && w[1] === 'sample') samples.set(w[2]!, w[3]!);
      if (w[0] === 'try' && w[1] !== 'rename') doomed.add(w[2]!);
      // A rename acknowledged fixes the name, up to a later attempt.
      if (w[1] === 'rename') {
        const name = w.slice(3, w[0] === 'ack' ? -1 : undefined).join(' ');
        if (w[0] === 'ack') names.set(w[2]!, new Set([name]));
        else names.get(w[2]!)?.add(name);
      }
      if (w[0] === 'ack') seq = Math.max(seq, Number(w.at(-1)));
    }
    return { samples, people, names, doomed, seq };
  }

  it('keeps every acknowledged change and always opens valid, over many SIGKILLs at random points', async () => {
    const dir = await tmp();
    const log = path.join(dir, '..', `${path.basename(dir)}.log`);
    dirs.push(log);
    let checked = 0;
    for (let round = 0; round < 12; round++) {
      await runAndKill(dir, log, 20 + Math.floor(Math.random() * 500));
      // The files as the killed process left them, before open() repairs anything.
      const raw = await readRaw(dir);
      const people = new Map(raw.people.map((p) => [p.id, p]));
      const want = mustHave((await readFile(log, 'utf8')).split('\n').filter(Boolean));
      for (const [sid, pid] of want.samples) {
        if (want.doomed.has(sid) || want.doomed.has(pid)) continue;
        expect(
          raw.samples.some((s) => s.id === sid && s.personId === pid),
          `acknowledged sample ${sid}`,
        ).toBe(true);
        checked++;
      }
      for (const pid of want.people) if (!want.doomed.has(pid)) expect(people.has(pid), `acknowledged person ${pid}`).toBe(true);
      for (const [pid, names] of want.names) if (people.has(pid)) expect(names.has(people.get(pid)!.name), `name of ${pid}`).toBe(true);
      expect(raw.seq).toBeGreaterThanOrEqual(want.seq);
      for (const s of raw.samples) {
        expect(people.has(s.personId)).toBe(true);
        expect(existsSync(path.join(dir, 'samples', `${s.id}.jpg`))).toBe(true);
        expect(s.embedding.length).toBe(192);
      }
      const fb = new Facebank(dir);
      await fb.open();
      expect((await fb.samples()).length).toBe(raw.samples.length);
      expect(fb.seq).toBe(raw.seq);
      const files = (await readdir(path.join(dir, 'samples'))).sort();
      expect(files).toEqual(raw.samples.map((s) => `${s.id}.jpg`).sort());
      await fb.close();
    }
    const compactions = (await readFile(log, 'utf8')).split('\n').filter((l) => l.includes('facebank: journal compacted')).length;
    console.log(`[facebank crash test] 12 SIGKILLs, ${checked} acknowledged samples checked, ${compactions} compactions meanwhile`);
    expect(checked).toBeGreaterThan(0);
    expect(compactions).toBeGreaterThan(0);
  }, 240_000);
});
