/** sync-state.json checked on load: a broken file is kept aside (renamed, never deleted) and an empty state used. */
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadSyncState, readSyncState, syncStateFile, writeSyncState } from '../../src/sync/state.js';
import { syncSummary } from '../../src/sync/summary.js';

describe('sync state file', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'fg-sync-state-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('reads back what was written, and a missing file is an empty state', async () => {
    expect((await loadSyncState(dir)).state).toEqual({ records: {}, pending: [], lastSync: null });
    const s = { records: { 'person/p1': { version: '000000000000001-000000-a', origin: 'a', deleted: false } }, pending: ['person/p1'], lastSync: null };
    await writeSyncState(dir, s);
    expect(await loadSyncState(dir)).toEqual({ state: s });
  });

  it.each([
    ['not JSON', '{"records": {', /not JSON/],
    ['a pending list that is a number', JSON.stringify({ records: {}, pending: 3, lastSync: null }), /breaks the schema at pending/],
    [
      'an entry without a version',
      JSON.stringify({ records: { 'person/p1': { origin: 'a', deleted: false } }, pending: [], lastSync: null }),
      /records\.person\/p1\.version/,
    ],
  ])('a file with %s is renamed aside with the reason, and an empty state is used', async (_what, text, reason) => {
    await writeFile(syncStateFile(dir), text);
    await expect(readSyncState(dir)).rejects.toThrow(/sync-state\.json cannot be used: .*resyncs at its next start/);
    const { state, setAside } = await loadSyncState(dir);
    expect(state).toEqual({ records: {}, pending: [], lastSync: null });
    expect(setAside?.reason).toMatch(reason);
    const files = await readdir(dir);
    expect(files).not.toContain('sync-state.json');
    const kept = files.filter((f) => f.startsWith('sync-state.json.corrupt-'));
    expect(kept).toHaveLength(1);
    expect(path.join(dir, kept[0]!)).toBe(setAside?.file);
    expect(await readFile(setAside!.file, 'utf8')).toBe(text);
  });

  it('people list reads a key mismatch noted by the running sync', async () => {
    await writeSyncState(dir, { records: {}, pending: ['person/x'], lastSync: null, keyMismatch: { unreadable: 7, since: '2026-12-06T10:00:00.000Z' } });
    expect(await syncSummary(dir)).toMatchObject({ pending: 1, keyMismatch: { unreadable: 7 } });
  });
});
