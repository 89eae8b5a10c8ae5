/**
 * What the sync remembers in <dataDir>/sync-state.json: the version of every record it has published or applied
 * (so nothing is applied twice and a local change gets a newer version), the keys still to publish (local changes
 * made while the broker was away) and the time of the last exchange with the broker.
 */
import { readFile } from 'node:fs/promises';
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
});
export type SyncEntry = z.infer<typeof entrySchema>;
export type SyncStateData = z.infer<typeof stateSchema>;

export const syncStateFile = (dataDir: string): string => path.join(dataDir, 'sync-state.json');

export async function readSyncState(dataDir: string): Promise<SyncStateData> {
  const file = syncStateFile(dataDir);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { records: {}, pending: [], lastSync: null };
    throw e;
  }
  const r = stateSchema.safeParse(JSON.parse(text));
  if (!r.success) throw new FacegateError('sync_state', `The sync state ${file} is not valid; move it away to resync from the broker.`);
  return r.data;
}

export async function writeSyncState(dataDir: string, s: SyncStateData): Promise<void> {
  await writeFileAtomic(syncStateFile(dataDir), JSON.stringify(s));
}
