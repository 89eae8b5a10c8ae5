/** What `facegate people list` shows of the sync: read from <dataDir>/sync-state.json (absent: sync never ran here). */
import { existsSync } from 'node:fs';
import { recordKey } from './merge.js';
import { readSyncState, syncStateFile } from './state.js';

export interface SyncSummary {
  origin: (personId: string) => string | null;
  pending: number;
  lastSync: string | null;
  /** This appliance's key opened none of the site's records at its last catch-up: it publishes nothing. */
  keyMismatch: { unreadable: number; since: string } | null;
}

export async function syncSummary(dataDir: string): Promise<SyncSummary | null> {
  if (!existsSync(syncStateFile(dataDir))) return null;
  const s = await readSyncState(dataDir);
  return {
    origin: (id) => s.records[recordKey('person', id)]?.origin ?? null,
    pending: s.pending.length,
    lastSync: s.lastSync,
    keyMismatch: s.keyMismatch ?? null,
  };
}
