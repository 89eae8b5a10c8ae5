/**
 * Files checked on load: a journal's torn last line is cut off and logged; lines that are not valid records are
 * counted in one log line, the file is kept aside and rewritten with the good ones; a broken auth.json is kept
 * aside and the appliance starts unclaimed; `passwd --reset` (AuthStore.reset) never reads the old file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DurableQueue } from '../../src/mqtt/queue.js';
import { AuthStore } from '../../src/store/auth.js';
import { EventStore } from '../../src/store/events.js';
import type { StorageReporter } from '../../src/store/storage-health.js';
import { UnknownStore } from '../../src/store/unknowns.js';

const dirs: string[] = [];
const tmp = async () => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'fg-load-'));
  dirs.push(d);
  return d;
};
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

/** A reporter that keeps what would be logged. */
function reports() {
  const repairs: { file: string; what: string }[] = [];
  const reporter: StorageReporter = {
    reportWriteFailure: () => {},
    reportWriteOk: () => {},
    reportRepair: (file, what) => repairs.push({ file, what }),
    onRetry: () => () => {},
  };
  return { reporter, repairs };
}

const event = (id: string) => ({
  e: {
    event: {
      type: 'new',
      id,
      camera: 'door',
      track: `door-${id}`,
      person: null,
      similarity: null,
      confidence: 1,
      box: [0, 0, 10, 10],
      quality: { size: 10, score: 1, blur: 50, yaw: 0, pitch: 0, roll: 0 },
      frameTime: '2026-12-06T10:00:00.000Z',
      publishTime: '2026-12-06T10:00:00.000Z',
      snapshot: null,
    },
    embedding: null,
  },
});
const line = (x: unknown) => JSON.stringify(x) + '\n';

describe('journals checked on load', () => {
  it('a torn last line is cut off on the next start and logged once; every whole record is kept', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'events.jsonl');
    await writeFile(file, line(event('a')) + line(event('b')) + line(event('c')).slice(0, 40));
    const r = reports();
    const s = await EventStore.open(dir, { storage: r.reporter });
    expect(s.list().map((e) => e.id)).toEqual(['b', 'a']);
    expect(r.repairs).toHaveLength(1);
    expect(r.repairs[0]!.what).toMatch(/The event history \(events\.jsonl\) ended in a line torn .*cut off, 2 whole records kept/);
    expect(readFileSync(file, 'utf8')).toBe(line(event('a')) + line(event('b')));
    // The next line starts on a line of its own.
    s.add(JSON.parse(JSON.stringify(event('d').e.event)) as Parameters<EventStore['add']>[0], null);
    await s.close();
    expect((await EventStore.open(dir)).list().map((e) => e.id)).toEqual(['d', 'b', 'a']);
  });

  it('lines that are not valid records are counted in one report, the file is kept aside and rewritten with the good ones', async () => {
    const dir = await tmp();
    const file = path.join(dir, 'events.jsonl');
    const broken = { e: { event: { ...event('x').e.event, box: 'not a box' }, embedding: null } };
    const text = line(event('a')) + 'garbage\n' + line(broken) + line(event('b')) + line({ e: { event: { id: 7 } } }) + line(event('c'));
    await writeFile(file, text);
    const r = reports();
    const s = await EventStore.open(dir, { storage: r.reporter });
    expect(s.list().map((e) => e.id)).toEqual(['c', 'b', 'a']);
    expect(r.repairs).toHaveLength(1); // one line with a count, not one per record
    expect(r.repairs[0]!.what).toMatch(
      /had 3 lines that are not a valid record: skipped, the file is kept as events\.jsonl\.corrupt-.*3 good records are written anew/,
    );
    const aside = readdirSync(dir).filter((f) => f.startsWith('events.jsonl.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(await readFile(path.join(dir, aside[0]!), 'utf8')).toBe(text); // kept as it was, never deleted
    expect(readFileSync(file, 'utf8').trim().split('\n')).toHaveLength(3);
    await s.close();
  });

  it('the unknown faces and the MQTT queue are checked the same way', async () => {
    const dir = await tmp();
    const face = {
      f: { id: 'u1', camera: 'door', track: 't1', time: new Date().toISOString(), snapshot: null, quality: event('q').e.event.quality, embedding: [0.5, 0.5] },
    };
    await writeFile(path.join(dir, 'unknowns.jsonl'), line(face) + line({ f: { ...face.f, embedding: 'stolen' } }));
    const r = reports();
    const u = await UnknownStore.open(dir, { retentionHours: 1, storage: r.reporter });
    expect(u.list().map((f) => f.id)).toEqual(['u1']);
    await u.close();
    const qfile = path.join(dir, 'mqtt-queue.jsonl');
    await writeFile(qfile, line({ s: 1, v: 'one' }) + line({ s: 'two', v: 2 }) + line({ s: 3, v: 'three' }) + '{"a":');
    const q = new DurableQueue<string>(10, { file: qfile, storage: r.reporter });
    q.open();
    expect(q.peek(10).map((e) => e.item)).toEqual(['one', 'three']);
    q.close();
    expect(r.repairs.map((x) => x.what)).toEqual([
      expect.stringMatching(/^The unknown faces \(unknowns\.jsonl\) had 1 line that is not a valid record: skipped/),
      expect.stringMatching(/^The MQTT event queue \(mqtt-queue\.jsonl\) had 1 line that is not a valid record and a torn last line: skipped/),
    ]);
    expect(readdirSync(dir).filter((f) => f.includes('.corrupt-'))).toHaveLength(2);
  });
});

describe('auth.json checked on load', () => {
  const opts = (dataDir: string) => ({ dataDir, sessionHours: 1 });

  it.each([
    ['cut short', (good: string) => good.slice(0, good.length / 2)],
    ['not an auth file', () => JSON.stringify({ passwordHash: 42, tokens: 'all' })],
    ['a token without its hash', (good: string) => JSON.stringify({ ...JSON.parse(good), tokens: [{ id: 'x', name: 'n', created: '2026-01-01T00:00:00Z' }] })],
  ])('%s: kept aside, the store starts unclaimed with a new claim code and says why', async (_what, spoil) => {
    const dir = await tmp();
    const a = await AuthStore.open(opts(dir));
    await a.setInitialPassword('the admin password');
    await a.createToken('ci');
    await a.flush();
    const spoiled = spoil(await readFile(path.join(dir, 'auth.json'), 'utf8'));
    await writeFile(path.join(dir, 'auth.json'), spoiled);

    const b = await AuthStore.open(opts(dir));
    expect(b.hasPassword()).toBe(false);
    expect(b.pendingClaimCode()).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(b.tokens()).toEqual([]);
    expect(b.refused?.message).toMatch(
      /auth\.json was refused \(.+\); it is kept as auth\.json\.corrupt-.+ the appliance starts unclaimed: enter the new claim code/,
    );
    const aside = readdirSync(dir).filter((f) => f.startsWith('auth.json.corrupt-'));
    expect(aside).toHaveLength(1);
    expect(await readFile(path.join(dir, aside[0]!), 'utf8')).toBe(spoiled);
    // The new state is on disk: a restart keeps the same claim code.
    await b.flush();
    expect((await AuthStore.open(opts(dir))).pendingClaimCode()).toBe(b.pendingClaimCode());
  });

  it('a valid older file (tokens without scope or expiry) still loads as before', async () => {
    const dir = await tmp();
    const hash = 'a'.repeat(64);
    await writeFile(
      path.join(dir, 'auth.json'),
      JSON.stringify({
        passwordHash: null,
        claimCode: 'ABCD-EFGH-JKMN',
        tokens: [{ id: 't', name: 'old', hash, created: '2025-01-01T00:00:00Z', lastUsed: null }],
        sessions: [],
      }),
    );
    const a = await AuthStore.open(opts(dir));
    expect(a.refused).toBeNull();
    expect(a.tokens()).toMatchObject([{ id: 't', scope: 'admin', expires: null }]);
    expect(a.pendingClaimCode()).toBe('ABCD-EFGH-JKMN');
  });

  it('reset (passwd --reset) works on a corrupt file without reading it, and keeps the broken file aside', async () => {
    const dir = await tmp();
    await writeFile(path.join(dir, 'auth.json'), '{"passwordHash":"scrypt$');
    const { claimCode, refused } = await AuthStore.reset(opts(dir));
    expect(claimCode).toMatch(/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    expect(refused?.keptAs).toMatch(/auth\.json\.corrupt-/);
    const a = await AuthStore.open(opts(dir));
    expect(a.refused).toBeNull();
    expect(a.pendingClaimCode()).toBe(claimCode);
    await a.setInitialPassword('a brand new password', claimCode);
    expect(await a.checkPassword('a brand new password')).toBe(true);
  });
});
