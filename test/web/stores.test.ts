/** The web's own stores (auth, events, unknowns) and the unknown-face clustering, without the HTTP layer. */
import { afterEach, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { AuthStore, hashPassword, verifyPassword } from '../../src/store/auth.js';
import { EventStore } from '../../src/store/events.js';
import { UnknownStore } from '../../src/store/unknowns.js';
import { clusterEmbeddings } from '../../src/match/cluster.js';
import { Bus } from '../../src/events/bus.js';
import { openAuth } from '../../src/web/server.js';
import { loadConfig } from '../../src/config/load.js';
import { sequentialEvents } from './events.js';

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'facegate-stores-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** Unknown faces' events with sequential ids (e1, e2, …: the assertions read them). */
const ev = sequentialEvents();

describe('password hashing', () => {
  it('uses scrypt with a random salt and verifies only the right password', async () => {
    const a = await hashPassword('the password one');
    const b = await hashPassword('the password one');
    expect(a).toMatch(/^scrypt\$16384\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword('the password one', a)).toBe(true);
    expect(await verifyPassword('the password one ', a)).toBe(false);
    expect(await verifyPassword('the password one', 'scrypt$1$1$1$x$y')).toBe(false);
    expect(await verifyPassword('the password one', 'plain')).toBe(false);
  });
});

describe('AuthStore', () => {
  it('persists the password, tokens (hashed) and sessions; sessions expire', async () => {
    const dir = await tmp();
    const a = await AuthStore.open({ dataDir: dir, sessionHours: 1 });
    expect(a.hasPassword()).toBe(false);
    await expect(a.setInitialPassword('short')).rejects.toThrow(/at least 10/);
    await a.setInitialPassword('long enough password');
    await expect(a.setInitialPassword('another long password')).rejects.toThrow(/already/);
    const { token, info } = await a.createToken('bot');
    const { id } = await a.createSession();
    await a.flush();
    const file = await readFile(path.join(dir, 'auth.json'), 'utf8');
    expect(file).not.toContain(token);
    expect(file).not.toContain(id);
    expect((await stat(path.join(dir, 'auth.json'))).mode & 0o777).toBe(0o600);

    const b = await AuthStore.open({ dataDir: dir, sessionHours: 1 });
    expect(await b.checkPassword('long enough password')).toBe(true);
    expect(await b.checkPassword('wrong password!!')).toBe(false);
    expect(b.checkToken(token)?.id).toBe(info.id);
    expect(b.checkToken(token + 'x')).toBeNull();
    expect(b.session(id)).not.toBeNull();
    await b.endSession(id);
    expect(b.session(id)).toBeNull();

    const short = await AuthStore.open({ dataDir: await tmp(), sessionHours: 0.000001 });
    const s = await short.createSession();
    await new Promise((r) => setTimeout(r, 20));
    expect(short.session(s.id)).toBeNull();
  });

  it('takes the admin hash from the loaded config, where FACEGATE_ADMIN_PASSWORD_HASH overrides the file', async () => {
    const fromEnv = await hashPassword('environment password');
    const fromConfig = await hashPassword('config file password');
    const dataDir = await tmp();
    const file = path.join(dataDir, 'config.yaml');
    await writeFile(file, `dataDir: ${dataDir}\nweb:\n  passwordHash: "${fromConfig}"\n`);
    const none = await openAuth(loadConfig(undefined, { FACEGATE_DATA_DIR: dataDir }));
    expect(none.hasPassword()).toBe(false);
    const cfg = await openAuth(loadConfig(file, {}));
    expect(await cfg.checkPassword('config file password')).toBe(true);
    const env = await openAuth(loadConfig(file, { FACEGATE_ADMIN_PASSWORD_HASH: fromEnv }));
    expect(await env.checkPassword('environment password')).toBe(true);
    expect(await env.checkPassword('config file password')).toBe(false);
  });

  it('a configured hash wins and disables first-run setup', async () => {
    const hash = await hashPassword('configured password');
    const a = await AuthStore.open({ dataDir: await tmp(), sessionHours: 1, fixedPasswordHash: hash });
    expect(a.hasPassword()).toBe(true);
    expect(await a.checkPassword('configured password')).toBe(true);
    await expect(a.setInitialPassword('some other password')).rejects.toThrow();
  });
});

describe('EventStore', () => {
  it('keeps every decision of a track addressable, drops the oldest uncorrected first, and survives a restart', async () => {
    const dir = await tmp();
    const bus = new Bus();
    const s = await EventStore.open(dir, { capacity: 4 });
    s.attach(bus);
    const first = ev({ track: 't1' });
    bus.emit('recognition', first, { embedding: new Float32Array([1, 0]) });
    const update = ev({ track: 't1', type: 'update', person: { id: 'p', name: 'P' } });
    bus.emit('recognition', update, { embedding: null });
    // Both decisions of the track stay listed and addressable; the update learns from the track's face.
    expect(s.list().map((e) => e.id)).toEqual([update.id, first.id]);
    expect(s.list({ track: 't1' })).toHaveLength(2);
    expect(s.get(first.id)?.event.type).toBe('new');
    expect(s.get(update.id)?.embedding).toEqual(new Float32Array([1, 0]));
    s.markCorrected(update.id, 'not-person', 'p');
    for (let i = 0; i < 4; i++) bus.emit('recognition', ev(), { embedding: null });
    // Full: the corrected update outlives older and newer uncorrected events.
    expect(s.list()).toHaveLength(4);
    expect(s.list().map((e) => e.id)).toContain(update.id);
    expect(s.list().map((e) => e.id)).not.toContain(first.id);
    expect(s.list({ corrected: true }).map((e) => e.id)).toEqual([update.id]);
    expect(s.list({ limit: 2 })).toHaveLength(2);
    const kept = s.list().map((e) => e.id);
    await s.close();
    const again = await EventStore.open(dir, { capacity: 4 });
    expect(again.list().map((e) => e.id)).toEqual(kept);
    expect(again.get(update.id)?.event.correction).toMatchObject({ kind: 'not-person', personId: 'p' });
    await again.close();
  });
});

describe('event and unknown-face journals', () => {
  const lines = async (file: string) => (await readFile(file, 'utf8')).split('\n').filter(Boolean);

  it('a new event appends one line (not the whole history), and the file stays bounded as the history turns over', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'events.jsonl');
    const s = await EventStore.open(dir, { capacity: 300, saveDelayMs: 60_000 });
    for (let i = 0; i < 300; i++) s.add(ev(), new Float32Array(128).fill(0.1));
    await s.save();
    const full = (await stat(file)).size;
    s.add(ev(), new Float32Array(128).fill(0.1));
    await s.save();
    // One event with its face costs one line, however long the history is.
    const added = (await stat(file)).size - full;
    expect(added).toBeGreaterThan(0);
    expect(added).toBeLessThan(full / 100);
    // Ten times the capacity later, the file holds at most twice the history (compaction), and replays to it.
    for (let i = 0; i < 3000; i++) {
      s.add(ev(), i % 3 ? null : new Float32Array(128).fill(0.2));
      if (i % 250 === 0) await s.save();
    }
    await s.close();
    expect((await lines(file)).length).toBeLessThanOrEqual(600);
    const kept = s.list({ limit: 300 }).map((e) => e.id);
    expect(kept).toHaveLength(300);
    const again = await EventStore.open(dir, { capacity: 300 });
    expect(again.list({ limit: 300 }).map((e) => e.id)).toEqual(kept);
    await again.close();
  });

  it('a line torn by a crash mid-write is skipped; every whole line before it is kept', async () => {
    const dir = await tmp();
    const s = await EventStore.open(dir);
    const a = ev();
    const b = ev();
    s.add(a, null);
    s.add(b, null);
    s.markCorrected(a.id, 'not-person', 'p');
    await s.close();
    await writeFile(path.join(dir, 'events.jsonl'), (await readFile(path.join(dir, 'events.jsonl'), 'utf8')) + '{"e":{"event":{"id":"torn","cam');
    const again = await EventStore.open(dir);
    expect(again.list().map((e) => e.id)).toEqual([b.id, a.id]);
    expect(again.get(a.id)?.event.correction?.kind).toBe('not-person');
    // The next change starts on a line of its own, so it survives the next restart too.
    const c = ev();
    again.add(c, null);
    await again.close();
    expect((await EventStore.open(dir)).list().map((e) => e.id)).toEqual([c.id, b.id, a.id]);
  });

  it('imports a history and unknown faces of the older whole-file format once, then removes the old files', async () => {
    const dir = await tmp();
    const old = [ev(), ev()];
    await writeFile(path.join(dir, 'events.json'), JSON.stringify(old.map((event) => ({ event, embedding: [1, 0] }))));
    const face = { id: 'u1', camera: 'door', track: 't', time: new Date().toISOString(), snapshot: null, quality: old[0]!.quality, embedding: [0, 1] };
    await writeFile(path.join(dir, 'unknowns.json'), JSON.stringify([face]));
    const events = await EventStore.open(dir);
    const unknowns = await UnknownStore.open(dir, { retentionHours: 1 });
    expect(events.list().map((e) => e.id)).toEqual([old[1]!.id, old[0]!.id]);
    expect(events.get(old[0]!.id)?.embedding).toEqual(new Float32Array([1, 0]));
    expect(unknowns.list().map((f) => f.id)).toEqual(['u1']);
    await expect(stat(path.join(dir, 'events.json'))).rejects.toThrow();
    await expect(stat(path.join(dir, 'unknowns.json'))).rejects.toThrow();
    await events.close();
    await unknowns.close();
    expect((await EventStore.open(dir)).list()).toHaveLength(2);
    expect((await UnknownStore.open(dir, { retentionHours: 1 })).list().map((f) => f.id)).toEqual(['u1']);
  });
});

describe('UnknownStore', () => {
  it('keeps unknown faces per track, drops tracks that got a name, expires old faces', async () => {
    const dir = await tmp();
    const s = await UnknownStore.open(dir, { retentionHours: 1 });
    const a = ev({ track: 'a' });
    s.add(a, new Float32Array([1, 0]));
    s.add(ev({ track: 'b' }), new Float32Array([0, 1]));
    s.add(ev({ track: 'c' }), null); // no embedding: nothing to cluster
    expect(s.list().map((f) => f.track)).toEqual(['a', 'b']);
    s.add(ev({ track: 'b', person: { id: 'p', name: 'P' } }), null);
    expect(s.list().map((f) => f.track)).toEqual(['a']);
    s.add(ev({ track: 'old', frameTime: new Date(Date.now() - 2 * 3600_000).toISOString() }), new Float32Array([1, 1]));
    expect(s.list().map((f) => f.track)).toEqual(['a']);
    await s.close();
    expect((await UnknownStore.open(dir, { retentionHours: 1 })).list().map((f) => f.id)).toEqual([a.id]);
  });
});

describe('clusterEmbeddings (average linkage, cosine)', () => {
  const v = (...x: number[]) => Float32Array.from(x);
  it('groups by average similarity above the threshold', () => {
    const faces = [v(1, 0, 0), v(0, 1, 0), v(0.95, 0.05, 0), v(0, 0.9, 0.1), v(0, 0, 1)];
    expect(clusterEmbeddings(faces, { threshold: 0.8 })).toEqual([[0, 2], [1, 3], [4]]);
    expect(clusterEmbeddings(faces, { threshold: 1.01 })).toEqual([[0], [1], [2], [3], [4]]);
    expect(clusterEmbeddings(faces, { threshold: -1 })).toEqual([[0, 1, 2, 3, 4]]);
    expect(clusterEmbeddings([], { threshold: 0.5 })).toEqual([]);
  });
  it('uses the average, not the single closest pair', () => {
    // a–b 0.87, b–c 0.75, a–c 0.32: single linkage at 0.7 would chain all three; the average {a,b}–c is 0.53.
    const a = v(1, 0);
    const b = v(Math.cos(Math.PI / 6), Math.sin(Math.PI / 6));
    const c = v(Math.cos(Math.PI / 3 + 0.2), Math.sin(Math.PI / 3 + 0.2));
    expect(clusterEmbeddings([a, b, c], { threshold: 0.7 })).toEqual([[0, 1], [2]]);
    expect(clusterEmbeddings([a, b, c], { threshold: 0.5 })).toEqual([[0, 1, 2]]);
    expect(() => clusterEmbeddings([v(1, 0), v(1, 0, 0)], { threshold: 0.5 })).toThrow(RangeError);
  });
});
