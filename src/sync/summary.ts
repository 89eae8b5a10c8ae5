/** What `facegate people list` shows of the sync: read from <dataDir>/sync-state.jsonl (absent: sync never ran here). */
import { recordKey } from './merge.js';
import { readSyncState } from './state.js';

export interface SyncSummary {
  origin: (personId: string) => string | null;
  pending: number;
  lastSync: string | null;
  /** This appliance's key opened none of the site's records at its last catch-up: it publishes nothing. */
  keyMismatch: { unreadable: number; since: string } | null;
}

export async function syncSummary(dataDir: string): Promise<SyncSummary | null> {
  const s = await readSyncState(dataDir);
  if (!s) return null;
  return {
    origin: (id) => s.records.get(recordKey('person', id))?.origin ?? null,
    pending: s.pending.size,
    lastSync: s.lastSync,
    keyMismatch: s.keyMismatch,
  };
}
