/**
 * What the sync remembers in <dataDir>/sync-state.json: the version of every record it has published or applied
 * (so nothing is applied twice and a local change gets a newer version), the keys still to publish (local changes
 * made while the broker was away), the time of the last exchange with the broker, and whether this appliance's key
 * opened none of the site's records at its last catch-up (what `facegate people list` shows).
 */
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../store/atomic.js';
import { FacegateError } from '../util/errors.js';

/** `sum`: a digest of a person's name as last published or applied, so a rename the state missed (a crash between the facebank save and this file's write) is found at the next start. */
const entrySchema = z.object({ version: z.string(), origin: z.string(), deleted: z.boolean(), expires: z.number().optional(), sum: z.string().optional() });
const stateSchema = z.object({
  records: z.record(z.string(), entrySchema),
  pending: z.array(z.string()),
  lastSync: z.string().nullable(),
  /** Set while this appliance's key opens none of the records on the broker (it publishes nothing meanwhile). */
  keyMismatch: z.object({ unreadable: z.number().int().nonnegative(), since: z.string() }).optional(),
});
export type SyncEntry = z.infer<typeof entrySchema>;
export type SyncStateData = z.infer<typeof stateSchema>;

export const syncStateFile = (dataDir: string): string => path.join(dataDir, 'sync-state.json');

export const emptySyncState = (): SyncStateData => ({ records: {}, pending: [], lastSync: null });

/** The state, or why the file cannot be used (it does not parse, or breaks the schema). */
async function parseState(file: string): Promise<{ state: SyncStateData } | { broken: string }> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { state: emptySyncState() };
    throw e;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return { broken: `it is not JSON (${(e as Error).message})` };
  }
  const r = stateSchema.safeParse(json);
  if (!r.success) {
    const first = r.error.issues[0];
    return { broken: `it breaks the schema${first ? ` at ${first.path.join('.') || 'the top'}: ${first.message}` : ''}` };
  }
  return { state: r.data };
}

/** Reads the state for a reader that must not change it (e.g. the CLI); a broken file is an error naming it. */
export async function readSyncState(dataDir: string): Promise<SyncStateData> {
  const file = syncStateFile(dataDir);
  const r = await parseState(file);
  if ('broken' in r)
    throw new FacegateError('sync_state', `The sync state ${file} cannot be used: ${r.broken}; the appliance keeps it aside and resyncs at its next start.`);
  return r.state;
}

/**
 * Loads the state at the sync's start. A broken file is renamed `<name>.corrupt-<time>` (kept, never deleted) and
 * an empty state returned, from which the sync rebuilds what it knows from the broker and the facebank, as a new
 * appliance does; `setAside` then says where the file went and why.
 */
export async function loadSyncState(dataDir: string): Promise<{ state: SyncStateData; setAside?: { file: string; reason: string } }> {
  const file = syncStateFile(dataDir);
  const r = await parseState(file);
  if (!('broken' in r)) return r;
  const aside = `${file}.corrupt-${new Date().toISOString().replace(/[:.]/g, '-')}`;
  await rename(file, aside);
  return { state: emptySyncState(), setAside: { file: aside, reason: r.broken } };
}

export async function writeSyncState(dataDir: string, s: SyncStateData): Promise<void> {
  await writeFileAtomic(syncStateFile(dataDir), JSON.stringify(s));
}
