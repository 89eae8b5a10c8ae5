/**
 * A full disk is a state, not a crash: the event history, the unknown faces, the MQTT queue and the snapshots on
 * a real 3 MiB tmpfs filled to the last byte. Nothing throws, the state says so once, nothing is torn, and once
 * space is back every write path catches up by itself (the files then hold what was added meanwhile).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Bus, type StorageState } from '../../src/events/bus.js';
import { DurableQueue } from '../../src/mqtt/queue.js';
import { EventStore } from '../../src/store/events.js';
import { Snapshots } from '../../src/store/snapshots.js';
import { StorageHealth, isNoSpace, isStorageFault } from '../../src/store/storage-health.js';
import { UnknownStore } from '../../src/store/unknowns.js';
import { createLogger } from '../../src/util/log.js';
import { sequentialEvents } from '../web/events.js';
import { mountSmallDisk, type SmallDisk } from '../helpers/tmpfs.js';

const disk = mountSmallDisk(3, 'the disk-full store tests');

/** Unknown faces' events with sequential ids (e1, e2, …: the assertions read them). */
const ev = sequentialEvents();

/** A StorageHealth with a quick probe, its log lines and its bus events kept for the test to read. */
function watchedHealth() {
  const out = new PassThrough();
  const lines: { level: number; msg: string; file?: string }[] = [];
  out.on('data', (d: Buffer) => {
    for (const l of d.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(l) as { level: number; msg: string });
  });
  const bus = new Bus();
  const states: StorageState[] = [];
  bus.on('storage', (s) => states.push(s));
  const health = new StorageHealth({ log: createLogger('debug', out), bus, probeMs: 50 });
  return { health, lines, states, errors: () => lines.filter((l) => l.level >= 50) };
}

const until = async (ok: () => boolean, what: string, ms = 20_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

/** Every line of a JSON-lines file parses and the file ends with a newline (nothing torn). */
const wholeLines = (file: string) => {
  const text = readFileSync(file, 'utf8');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as unknown);
};

describe('isNoSpace / isStorageFault', () => {
  it('tell a full or failing disk from the program’s own errors', () => {
    const err = (code: string) => Object.assign(new Error(code), { code });
    expect(isNoSpace(err('ENOSPC'))).toBe(true);
    expect(isNoSpace(err('EDQUOT'))).toBe(true);
    expect(isNoSpace(err('EIO'))).toBe(false);
    expect(isStorageFault(err('EIO'))).toBe(true);
    expect(isStorageFault(err('EACCES'))).toBe(false);
    expect(isStorageFault(new Error('no code'))).toBe(false);
    expect(isNoSpace(null)).toBe(false);
  });
});

describe.skipIf(!disk)('on a full disk (3 MiB tmpfs)', () => {
  const d = disk as SmallDisk;
  let dir: string;
  beforeAll(() => {
    dir = d.dir;
  });
  afterEach(async () => {
    await d.free();
    for (const f of readdirSync(dir)) await rm(path.join(dir, f), { recursive: true, force: true });
  });
  afterAll(() => d.unmount());

  it('the event history and unknown faces go on in memory, say so once, and catch up whole when space is back', async () => {
    const data = path.join(dir, 'data');
    await mkdir(data);
    const w = watchedHealth();
    const events = await EventStore.open(data, { storage: w.health });
    const unknowns = await UnknownStore.open(data, { retentionHours: 1, storage: w.health });
    const bus = new Bus();
    events.attach(bus);
    unknowns.attach(bus);
    const emb = new Float32Array(512).fill(0.25);
    for (let i = 0; i < 3; i++) bus.emit('recognition', ev(), { embedding: emb });
    await events.save();

    await d.fill();
    const during = Array.from({ length: 40 }, () => ev());
    for (const e of during) expect(() => bus.emit('recognition', e, { embedding: emb })).not.toThrow();
    await events.save();
    await unknowns.save();

    const state = w.health.state;
    expect(state.ok).toBe(false);
    if (!state.ok) {
      expect(state.code).toBe('ENOSPC');
      expect(state.reason).toMatch(/is full \(ENOSPC\).*recognition and live MQTT events go on.*free space/);
    }
    expect(w.errors()).toHaveLength(1); // said once, not once per event or per store
    expect(w.states.map((s) => s.ok)).toEqual([false]);
    expect(events.size).toBe(43); // kept in memory: the page still lists them
    expect(unknowns.list()).toHaveLength(43);

    await d.free();
    await until(() => w.health.state.ok, 'the storage state to recover');
    expect(w.states.map((s) => s.ok)).toEqual([false, true]);
    expect(w.lines.some((l) => /storage writable again/.test(l.msg))).toBe(true);
    // One more event after the recovery is appended as usual.
    bus.emit('recognition', ev(), { embedding: null });
    await events.close();
    await unknowns.close();

    expect(wholeLines(path.join(data, 'events.jsonl')).length).toBeGreaterThanOrEqual(44);
    wholeLines(path.join(data, 'unknowns.jsonl'));
    const again = await EventStore.open(data);
    expect(again.size).toBe(44);
    expect(again.list({ limit: 1000 }).map((e) => e.id)).toEqual(expect.arrayContaining(during.map((e) => e.id)));
    await again.close();
    const faces = await UnknownStore.open(data, { retentionHours: 1 });
    expect(faces.list()).toHaveLength(43);
    await faces.close();
  });

  it('the MQTT queue never throws on a full disk (push and the ack path), and its file holds the live entries once space is back', async () => {
    const file = path.join(dir, 'mqtt-queue.jsonl');
    const w = watchedHealth();
    const q = new DurableQueue<{ payload: string }>(10_000, { file, storage: w.health, syncMs: 10 });
    q.open();
    const payload = 'x'.repeat(2000);
    for (let i = 0; i < 10; i++) q.push({ payload });
    await d.fill();
    // What killed the appliance: writeSync's ENOSPC on the ack path, in a crash loop.
    for (let i = 0; i < 200; i++) expect(() => q.push({ payload })).not.toThrow();
    for (const { seq } of q.peek(150)) expect(() => q.ack(seq)).not.toThrow();
    expect(q.length).toBe(60);
    expect(w.health.state.ok).toBe(false);
    expect(w.errors()).toHaveLength(1);

    await d.free();
    await until(() => w.health.state.ok, 'the queue to rewrite its file');
    q.push({ payload: 'after' });
    q.close();
    expect(wholeLines(file)).toHaveLength(61);
    const again = new DurableQueue<{ payload: string }>(10_000, { file });
    again.open();
    expect(again.length).toBe(61);
    expect(again.peek(100).at(-1)!.item.payload).toBe('after');
    again.close();
  });

  it('a queue opened on a full disk starts (no crash loop) and keeps its replayed entries', async () => {
    const file = path.join(dir, 'mqtt-queue.jsonl');
    const first = new DurableQueue<number>(100, { file });
    first.open();
    for (let i = 0; i < 5; i++) first.push(i);
    first.close();
    await d.fill();
    const w = watchedHealth();
    const q = new DurableQueue<number>(100, { file, storage: w.health });
    expect(() => q.open()).not.toThrow();
    expect(q.peek(10).map((e) => e.item)).toEqual([0, 1, 2, 3, 4]);
    expect(() => q.push(5)).not.toThrow();
    q.close();
    await d.free();
    // The old file was left as it was: nothing lost, nothing torn.
    expect(wholeLines(file)).toHaveLength(5);
  });

  it('a snapshot the disk cannot take is not kept: the event goes on without one, and snapshots resume when space is back', async () => {
    const w = watchedHealth();
    const snaps = new Snapshots(dir, w.health);
    const img = { width: 64, height: 64, data: new Uint8Array(64 * 64 * 3).fill(128) };
    expect(await snaps.keep(img)).toMatch(/^[0-9a-f-]{36}$/);
    await d.fill();
    expect(await snaps.keep(img)).toBeNull();
    expect(w.health.state.ok).toBe(false);
    expect(readdirSync(snaps.dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    await d.free();
    const id = await snaps.keep(img);
    expect(id).not.toBeNull();
    expect(await snaps.path(id!)).not.toBeNull();
    expect(w.health.state.ok).toBe(true);
  });
});
