/**
 * The sync state: one journal line per change (a change to a large state costs a line), checked line by line on
 * load; the older whole-file sync-state.json imported once; a broken file or line kept aside, never deleted.
 */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { legacySyncStateFile, readSyncState, SyncState, syncStateFile, type SyncEntry } from '../../src/sync/state.js';
import { syncSummary } from '../../src/sync/summary.js';

const entry = (n: number, origin = 'a'): SyncEntry => ({ version: `${String(n).padStart(15, '0')}-000000-${origin}`, origin, deleted: false });

describe('sync state', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'fg-sync-state-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads back what was set, pending and forgotten records included; nothing there is no state', async () => {
    expect(await readSyncState(dir)).toBeNull();
    const { state, setAside } = await SyncState.open(dir);
    expect(setAside).toBeUndefined();
    state.set('person/p1', entry(1), true);
    state.set('sample/s1', entry(2));
    state.set('sample/s2', entry(3), true);
    state.setPending('person/p1', false);
    state.set('sample/s2', undefined, false);
    state.setLastSync('2026-12-06T10:00:00.000Z');
    await state.flush();
    const { state: again } = await SyncState.open(dir);
    expect([...again.records.keys()].sort()).toEqual(['person/p1', 'sample/s1']);
    expect(again.entry('person/p1')).toEqual(entry(1));
    expect([...again.pending]).toEqual([]);
    expect(again.lastSync).toBe('2026-12-06T10:00:00.000Z');
    expect(await syncSummary(dir)).toMatchObject({ pending: 0, lastSync: '2026-12-06T10:00:00.000Z', keyMismatch: null });
    expect((await syncSummary(dir))?.origin('p1')).toBe('a');
  });

  it('a change to a state of 10,000 records appends one short line; the file stays bounded after many changes', async () => {
    const { state } = await SyncState.open(dir);
    for (let i = 0; i < 10_000; i++) state.set(`sample/s${i}`, entry(i));
    await state.flush();
    const before = (await stat(syncStateFile(dir))).size;
    state.set('sample/s42', { ...entry(42), sum: 'renamed' }, true);
    await state.flush();
    const grew = (await stat(syncStateFile(dir))).size - before;
    expect(grew).toBeGreaterThan(0);
    expect(grew).toBeLessThan(200);
    for (let round = 0; round < 3; round++) for (let i = 0; i < 10_000; i++) state.set(`sample/s${i}`, entry(i + round + 1));
    await state.flush();
    const lines = (await readFile(syncStateFile(dir), 'utf8')).split('\n').filter(Boolean).length;
    expect(lines).toBeLessThanOrEqual(2 * 10_002 + 1);
    const { state: again } = await SyncState.open(dir);
    expect(again.records.size).toBe(10_000);
    expect(again.entry('sample/s7')).toEqual(entry(10));
    expect([...again.pending]).toEqual(['sample/s42']);
  });

  it('imports the older sync-state.json once and keeps it as .imported', async () => {
    const old = {
      records: { 'person/p1': entry(1, 'b') },
      pending: ['person/p1'],
      lastSync: null,
      keyMismatch: { unreadable: 7, since: '2026-12-06T10:00:00.000Z' },
    };
    await writeFile(legacySyncStateFile(dir), JSON.stringify(old));
    expect(await syncSummary(dir)).toMatchObject({ pending: 1, keyMismatch: { unreadable: 7 } });
    const { state, setAside } = await SyncState.open(dir);
    expect(setAside).toBeUndefined();
    expect(state.entry('person/p1')).toEqual(entry(1, 'b'));
    expect([...state.pending]).toEqual(['person/p1']);
    expect(await readdir(dir)).toEqual(expect.arrayContaining(['sync-state.json.imported', 'sync-state.jsonl']));
    expect(await readdir(dir)).not.toContain('sync-state.json');
    expect((await SyncState.open(dir)).state.entry('person/p1')).toEqual(entry(1, 'b'));
  });

  it.each([
    ['not JSON', '{"records": {', /not JSON/],
    ['a pending list that is a number', JSON.stringify({ records: {}, pending: 3, lastSync: null }), /breaks the schema at pending/],
    [
      'an entry without a version',
      JSON.stringify({ records: { 'person/p1': { origin: 'a', deleted: false } }, pending: [], lastSync: null }),
      /records\.person\/p1\.version/,
    ],
  ])('an older sync-state.json with %s is kept aside with the reason, and an empty state is used', async (_what, text, reason) => {
    await writeFile(legacySyncStateFile(dir), text);
    await expect(readSyncState(dir)).rejects.toThrow(/sync-state\.json cannot be used: .*resyncs at its next start/);
    const { state, setAside } = await SyncState.open(dir);
    expect(state.records.size).toBe(0);
    expect(setAside?.reason).toMatch(reason);
    const kept = (await readdir(dir)).filter((f) => f.startsWith('sync-state.json.corrupt-'));
    expect(kept).toHaveLength(1);
    expect(path.join(dir, kept[0]!)).toBe(setAside?.file);
    expect(await readFile(setAside!.file, 'utf8')).toBe(text);
  });

  it('journal lines that break the schema are counted, the file copied aside, and the good lines kept; a torn last line is only skipped', async () => {
    const good = JSON.stringify({ k: 'person/p1', e: entry(1) });
    const text = `${good}\n{"k":"person/p2","e":{"version":3}}\nnot json\n${JSON.stringify({ k: 'sample/s1', e: entry(2), p: true })}\n{"k":"sample/s9","e`;
    await writeFile(syncStateFile(dir), text);
    await expect(readSyncState(dir)).rejects.toThrow(/sync-state\.jsonl cannot be used: a line is not JSON/);
    const { state, setAside } = await SyncState.open(dir);
    expect(setAside?.reason).toBe('2 broken line(s): a line is not JSON');
    expect(await readFile(setAside!.file, 'utf8')).toBe(text);
    expect([...state.records.keys()].sort()).toEqual(['person/p1', 'sample/s1']);
    expect([...state.pending]).toEqual(['sample/s1']);
    // Rewritten from the good lines: the next load has nothing to set aside.
    expect((await SyncState.open(dir)).setAside).toBeUndefined();

    await writeFile(syncStateFile(dir), `${good}\n{"k":"sample/s9","e`);
    const torn = await SyncState.open(dir);
    expect(torn.setAside).toBeUndefined();
    expect([...torn.state.records.keys()]).toEqual(['person/p1']);
  });

  it('people list reads a key mismatch noted by the running sync', async () => {
    const { state } = await SyncState.open(dir);
    state.setKeyMismatch({ unreadable: 7, since: '2026-12-06T10:00:00.000Z' });
    state.set('person/x', entry(1), true);
    await state.flush();
    expect(await syncSummary(dir)).toMatchObject({ pending: 1, keyMismatch: { unreadable: 7 } });
  });
});
