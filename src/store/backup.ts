/**
 * Backup and restore of the data directory's facebank.
 *
 * Included: the facebank (people and samples, as a compacted facebank.journal: store/facebank-codec.ts), the crop
 * samples/<sampleId>.jpg of every sample, and auth.json (admin password hash, API token hashes, sessions) when
 * present. Not included: events, unknown faces, snapshots (history, not identity).
 *
 * Backups are written as version 3 archives (backup-stream.ts): streamed, one file at a time, so memory follows the
 * largest file, not the archive. Versions 1 and 2 (one gzip'd JSON object, backup-legacy.ts) still restore.
 *
 * Restore checks everything into <dataDir>/.restore-<random>/ first (each file's size and sha256, the allowed
 * paths, the archive's trailer, then every facebank record against the schema and a crop for every sample), then
 * swaps: the current items are renamed aside into <dataDir>/.restore-old-<random>/, the new ones renamed in, then
 * the old ones deleted. On any failure before the swap nothing in the data directory changes; a failure during the
 * swap is rolled back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type Dir, existsSync } from 'node:fs';
import { mkdir, open, opendir, readFile, rename, rm, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { FacegateError } from '../util/errors.js';
import { readFacebankFiles } from './facebank.js';
import { JOURNAL_FILE, loadJournalFile } from './facebank-journal.js';
import { LEGACY_FILE } from './facebank-legacy.js';
import { type FacebankContent, invalidFacebank, journalFramesOf, OPTIONAL_FILES, refuse, SAMPLES_DIR } from './backup-shared.js';
import { readLegacyBackup } from './backup-legacy.js';
import { type ArchiveFile, stageStreamArchive, STREAM_VERSION, streamVersionOf, writeStreamArchive } from './backup-stream.js';

export { BACKUP_FORMAT, OPTIONAL_FILES, SAMPLES_DIR, type FacebankContent } from './backup-shared.js';
export { LEGACY_MAX_BYTES, readLegacyBackup } from './backup-legacy.js';
/** The version `createBackup` writes. */
export const BACKUP_VERSION = STREAM_VERSION;
export const FACEBANK_FILE = JOURNAL_FILE;

export interface BackupSummary {
  file: string;
  people: number;
  samples: number;
  files: string[];
  bytes: number;
}

async function readFacebank(dataDir: string): Promise<FacebankContent> {
  if (!existsSync(path.join(dataDir, JOURNAL_FILE)) && !existsSync(path.join(dataDir, LEGACY_FILE)))
    throw new FacegateError('backup', `nothing to back up: ${dataDir} holds no facebank (${JOURNAL_FILE} or ${LEGACY_FILE})`);
  try {
    return await readFacebankFiles(dataDir);
  } catch (e) {
    throw new FacegateError('backup', `nothing backed up: ${(e as Error).message}`, { cause: e });
  }
}

/** What a backup takes from one read of the facebank; the records are let go once the journal is written. */
interface FacebankCopy {
  seq: number;
  facebank: FacebankContent | null;
  sampleIds: string[];
  people: number;
}

async function copyFacebank(dataDir: string): Promise<FacebankCopy> {
  const fb = await readFacebank(dataDir);
  return { seq: fb.seq, facebank: fb, sampleIds: fb.samples.map((s) => s.id), people: fb.people.length };
}

/** The compacted journal of `fb` as an archive file: measured in a first pass, made again as it is written. */
function journalFile(fb: FacebankContent): ArchiveFile {
  const hash = createHash('sha256');
  let size = 0;
  for (const b of journalFramesOf(fb)) {
    hash.update(b);
    size += b.length;
  }
  return { path: FACEBANK_FILE, size, sha256: hash.digest('hex'), chunks: () => journalFramesOf(fb) };
}

/** The facebank changed while its crops were read: the backup starts again. */
class FacebankChanged extends Error {}

/**
 * The facebank's journal, the crop of every sample it names, and the optional files. A running appliance may delete
 * a sample between the two reads (it commits the change first, then deletes the crop): then the facebank has changed
 * and the backup is made again.
 */
async function* filesOf(dataDir: string, copy: FacebankCopy): AsyncGenerator<ArchiveFile> {
  let facebank = copy.facebank;
  copy.facebank = null;
  yield journalFile(facebank!);
  facebank = null; // the records go once the journal is written

  for (const id of copy.sampleIds) {
    const rel = `${SAMPLES_DIR}/${id}.jpg`;
    let bytes: Buffer;
    try {
      bytes = await readFile(path.join(dataDir, rel));
    } catch (e) {
      const now = await readFacebank(dataDir).catch(() => null);
      if (now && (now.seq !== copy.seq || !now.samples.some((x) => x.id === id))) throw new FacebankChanged();
      throw new FacegateError('backup', `sample ${id} has no crop ${path.join(dataDir, rel)} (${(e as NodeJS.ErrnoException).code})`, { cause: e });
    }
    yield { path: rel, bytes };
  }
  for (const name of OPTIONAL_FILES) {
    const p = path.join(dataDir, name);
    if (existsSync(p)) yield { path: name, bytes: await readFile(p) };
  }
}

/** Writes a backup of `dataDir` to `file` (atomically: a temp file renamed into place). */
export async function createBackup(dataDir: string, file: string): Promise<BackupSummary> {
  for (;;) {
    const copy = await copyFacebank(dataDir);
    const { people, sampleIds } = copy;
    const names: string[] = [];
    const listed = async function* (files: AsyncIterable<ArchiveFile>) {
      for await (const f of files) {
        names.push(f.path);
        yield f;
      }
    };
    let bytes: number;
    try {
      bytes = await writeStreamArchive(file, listed(filesOf(dataDir, copy)));
    } catch (e) {
      if (e instanceof FacebankChanged) continue;
      if (e instanceof FacegateError) throw e;
      throw new FacegateError('backup', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
    }
    return { file, people, samples: sampleIds.length, files: names, bytes };
  }
}

async function writeSynced(file: string, bytes: Uint8Array): Promise<void> {
  const fh = await open(file, 'w', 0o640);
  try {
    await fh.writeFile(bytes);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/**
 * Deletes a directory tree entry by entry, without holding all its names (fs.rm's recursive walk added 140 MB of
 * RSS on 50,000 crops). A folder read while it is emptied may skip names, so it is read again until rmdir succeeds.
 */
const UNLINK_BATCH = 64;
async function removeTree(dir: string): Promise<void> {
  for (let pass = 0; ; pass++) {
    let d: Dir;
    try {
      d = await opendir(dir);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code === 'ENOTDIR') return rm(dir, { force: true });
      throw e;
    }
    let batch: string[] = [];
    const unlinkBatch = async () => {
      await Promise.all(batch.map((p) => unlink(p).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? undefined : Promise.reject(e)))));
      batch = [];
    };
    for await (const entry of d) {
      const p = path.join(dir, entry.name);
      if (entry.isDirectory()) await removeTree(p);
      else batch.push(p);
      if (batch.length >= UNLINK_BATCH) await unlinkBatch();
    }
    await unlinkBatch();
    try {
      return await rmdir(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOTEMPTY' || pass >= 3) throw e;
    }
  }
}

export interface RestoreSummary {
  people: number;
  samples: number;
  files: string[];
  created: string;
}

/** What was staged for the swap, checked: what the restore reports once it is swapped in. */
type Staged = RestoreSummary;

/** A version 1 or 2 archive: read and checked in memory, then written into `staging`. */
async function stageLegacy(file: string, staging: string, legacyMaxBytes?: number): Promise<Staged> {
  const { files, facebank, created } = readLegacyBackup(await readFile(file), legacyMaxBytes);
  await mkdir(path.join(staging, SAMPLES_DIR), { recursive: true });
  for (const [rel, bytes] of files) await writeSynced(path.join(staging, rel), bytes);
  return { people: facebank.people.length, samples: facebank.samples.length, files: [...files.keys()], created };
}

/** The facebank journal staged at `file`, checked record by record: its people count and its samples' ids. */
async function checkJournal(file: string): Promise<{ people: number; sampleIds: string[] }> {
  try {
    const j = (await loadJournalFile(file))!;
    if (j.cut) throw new Error(`its last ${j.cut} bytes are a cut-off change`);
    if (j.state.strays) throw new Error(`${j.state.strays} samples name a person it does not hold`);
    return { people: j.state.people.size, sampleIds: [...j.state.samples.keys()] };
  } catch (e) {
    throw invalidFacebank(JOURNAL_FILE, e);
  }
}

/**
 * A version 3 archive: streamed into `staging`; its journal is checked as soon as it is written (before the crops,
 * which a backup writes after it, so the records are let go before they come), then every sample's crop.
 */
async function stageStream(file: string, staging: string): Promise<Staged> {
  await mkdir(path.join(staging, SAMPLES_DIR), { recursive: true });
  const checked: Array<{ people: number; sampleIds: string[] }> = [];
  const { files, created } = await stageStreamArchive(file, staging, async (rel) => {
    if (rel === JOURNAL_FILE) checked.push(await checkJournal(path.join(staging, JOURNAL_FILE)));
  });
  if (!checked[0]) throw refuse(`it has no ${JOURNAL_FILE}`);
  const { people, sampleIds } = checked[0];
  const have = new Set(files);
  for (const id of sampleIds) if (!have.has(`${SAMPLES_DIR}/${id}.jpg`)) throw refuse(`sample ${id} has no crop ${SAMPLES_DIR}/${id}.jpg`);
  if (have.has('auth.json')) {
    try {
      JSON.parse(await readFile(path.join(staging, 'auth.json'), 'utf8'));
    } catch {
      throw refuse('its auth.json is not valid JSON');
    }
  }
  return { people, samples: sampleIds.length, files, created };
}

export interface RestoreOptions {
  /** Largest decompressed version 1 or 2 archive read (default LEGACY_MAX_BYTES). */
  legacyMaxBytes?: number;
}

/**
 * Replaces the facebank (and auth.json when the backup has one) in `dataDir` with the backup's.
 * The caller holds the data-dir lock (store/lock.ts): a running facegate keeps its facebank in memory.
 */
export async function restoreBackup(dataDir: string, file: string, options: RestoreOptions = {}): Promise<RestoreSummary> {
  let version: number | null;
  try {
    version = await streamVersionOf(file);
  } catch (e) {
    throw new FacegateError('backup', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  if (version !== null && version !== STREAM_VERSION)
    throw refuse(`it is a version ${version} archive, and this facegate reads versions 1 to ${STREAM_VERSION}`);

  const existed = existsSync(dataDir);
  await mkdir(dataDir, { recursive: true });
  const tag = randomBytes(6).toString('hex');
  const staging = path.join(dataDir, `.restore-${tag}`);
  const aside = path.join(dataDir, `.restore-old-${tag}`);
  let staged: Staged;
  try {
    staged = version === null ? await stageLegacy(file, staging, options.legacyMaxBytes) : await stageStream(file, staging);
  } catch (e) {
    await removeTree(staging);
    if (!existed) await rmdir(dataDir).catch(() => {});
    if (e instanceof FacegateError) throw e;
    throw new FacegateError('backup', `cannot stage the restore in ${dataDir}: ${(e as Error).message}; the data directory was not changed`, { cause: e });
  }
  const files = new Set(staged.files);

  // The items swapped: always the journal and samples/; optional files only when the backup has them. A facebank.json
  // not yet imported is set aside too (it would be imported over the restored facebank, or refused beside it).
  const items = [FACEBANK_FILE, SAMPLES_DIR, ...OPTIONAL_FILES.filter((n) => files.has(n))];
  const replaced = [...items, LEGACY_FILE];
  const movedAside: string[] = [];
  const movedIn: string[] = [];
  try {
    await mkdir(aside);
    for (const item of replaced) {
      if (existsSync(path.join(dataDir, item))) {
        await rename(path.join(dataDir, item), path.join(aside, item));
        movedAside.push(item);
      }
    }
    for (const item of items) {
      await rename(path.join(staging, item), path.join(dataDir, item));
      movedIn.push(item);
    }
  } catch (e) {
    // Roll back: new items out, old items back in.
    let restored = true;
    for (const item of movedIn.reverse()) await rename(path.join(dataDir, item), path.join(staging, item)).catch(() => (restored = false));
    for (const item of movedAside.reverse()) await rename(path.join(aside, item), path.join(dataDir, item)).catch(() => (restored = false));
    await removeTree(staging);
    if (!restored)
      throw new FacegateError(
        'backup',
        `restore failed while swapping files (${(e as Error).message}) and could not put everything back: the previous data is in ${aside}`,
        { cause: e },
      );
    await removeTree(aside);
    throw new FacegateError('backup', `restore failed while swapping files (${(e as Error).message}); the previous data was put back`, { cause: e });
  }
  await removeTree(aside);
  await removeTree(staging);
  return staged;
}
