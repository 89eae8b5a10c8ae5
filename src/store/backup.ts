/**
 * Backup and restore of the data directory's facebank.
 *
 * Included: the facebank (people and samples, as a compacted facebank.journal: store/facebank-codec.ts), the crop
 * samples/<sampleId>.jpg of every sample, and auth.json (admin password hash, API token hashes, sessions) when
 * present. Not included: events, unknown faces, snapshots (history, not identity).
 *
 * Format (".fgbak"): gzip of one UTF-8 JSON object
 *   { "format": "facegate-backup", "version": 2, "created": ISO time,
 *     "manifest": [ { "path", "size", "sha256" } ... ],     // hex sha256 of each file's bytes
 *     "files": { "<path>": "<base64 bytes>" ... } }
 * Version 1 (older facegate) held facebank.json instead of facebank.journal; both restore. gzip's CRC catches most
 * damage, the per-file sha256 the rest, and every record is checked against the facebank schema. The whole archive
 * is held in memory (crops are a few kB each; the journal keeps embeddings as 4 bytes a value).
 *
 * Restore validates everything into <dataDir>/.restore-<random>/ first, then swaps: the current items are
 * renamed aside into <dataDir>/.restore-old-<random>/, the new ones renamed in, then the old ones deleted.
 * On any failure before the swap nothing in the data directory changes; a failure during the swap is
 * rolled back.
 */
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { FacegateError } from '../util/errors.js';
import { formatIssues } from '../config/issues.js';
import { ID_PATTERN } from '../util/ids.js';
import { readFacebankFiles } from './facebank.js';
import { compactedFrames, JOURNAL_FILE, loadJournal } from './facebank-journal.js';
import { LEGACY_FILE, parseLegacy } from './facebank-legacy.js';
import type { Person, Sample } from './types.js';

export const BACKUP_FORMAT = 'facegate-backup';
export const BACKUP_VERSION = 2;
export const FACEBANK_FILE = JOURNAL_FILE;
export const SAMPLES_DIR = 'samples';
/** Included when present; restored only when in the backup (an existing one is otherwise kept). */
export const OPTIONAL_FILES = ['auth.json'] as const;

const ALLOWED_PATH = new RegExp(`^(facebank\\.journal|facebank\\.json|auth\\.json|samples/${ID_PATTERN}\\.jpg)$`);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

const archiveSchema = z
  .object({
    format: z.literal(BACKUP_FORMAT),
    version: z.union([z.literal(1), z.literal(BACKUP_VERSION)]),
    created: z.string(),
    manifest: z.array(
      z.object({
        path: z.string().regex(ALLOWED_PATH, 'not a file a backup may contain'),
        size: z.number().int().min(0),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
      }),
    ),
    files: z.record(z.string(), z.string()),
  })
  .strict();

/** The records a backup holds. */
export interface FacebankContent {
  seq: number;
  people: Person[];
  samples: Sample[];
}

export interface BackupSummary {
  file: string;
  people: number;
  samples: number;
  files: string[];
  bytes: number;
}

const refuse = (message: string, cause?: unknown) =>
  new FacegateError('backup_invalid', `backup refused: ${message}; the data directory was not changed`, { cause });

/** A compacted journal of these records (what a backup holds and a restore writes). */
const journalOf = (fb: FacebankContent) => Buffer.concat([...compactedFrames({ format: 'facegate-facebank', version: 2, seq: fb.seq }, fb.people, fb.samples)]);

async function readFacebank(dataDir: string): Promise<FacebankContent> {
  if (!existsSync(path.join(dataDir, JOURNAL_FILE)) && !existsSync(path.join(dataDir, LEGACY_FILE)))
    throw new FacegateError('backup', `nothing to back up: ${dataDir} holds no facebank (${JOURNAL_FILE} or ${LEGACY_FILE})`);
  try {
    return await readFacebankFiles(dataDir);
  } catch (e) {
    throw new FacegateError('backup', `nothing backed up: ${(e as Error).message}`, { cause: e });
  }
}

const isJpeg = (b: Uint8Array) => b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/**
 * The facebank and the crop of every sample it names. A running appliance may delete a sample between the
 * two reads (it commits the change first, then deletes the crop): then the facebank has changed and is read again.
 */
async function snapshotFacebank(dataDir: string): Promise<{ facebank: FacebankContent; entries: Array<[string, Buffer]> }> {
  for (;;) {
    const facebank = await readFacebank(dataDir);
    const entries: Array<[string, Buffer]> = [[FACEBANK_FILE, journalOf(facebank)]];
    let changed = false;
    for (const s of facebank.samples) {
      const rel = `${SAMPLES_DIR}/${s.id}.jpg`;
      try {
        entries.push([rel, await readFile(path.join(dataDir, rel))]);
      } catch (e) {
        const now = await readFacebank(dataDir).catch(() => null);
        if (now && (now.seq !== facebank.seq || !now.samples.some((x) => x.id === s.id))) {
          changed = true;
          break;
        }
        throw new FacegateError('backup', `sample ${s.id} has no crop ${path.join(dataDir, rel)} (${(e as NodeJS.ErrnoException).code})`, { cause: e });
      }
    }
    if (!changed) return { facebank, entries };
  }
}

/** Writes a backup of `dataDir` to `file` (atomically: a temp file renamed into place). */
export async function createBackup(dataDir: string, file: string): Promise<BackupSummary> {
  const { facebank, entries } = await snapshotFacebank(dataDir);
  for (const name of OPTIONAL_FILES) {
    const p = path.join(dataDir, name);
    if (existsSync(p)) entries.push([name, await readFile(p)]);
  }
  const archive = {
    format: BACKUP_FORMAT,
    version: BACKUP_VERSION,
    created: new Date().toISOString(),
    manifest: entries.map(([p, b]) => ({ path: p, size: b.length, sha256: sha256(b) })),
    files: Object.fromEntries(entries.map(([p, b]) => [p, b.toString('base64')])),
  };
  const gz = gzipSync(Buffer.from(JSON.stringify(archive), 'utf8'));
  const tmp = `${file}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(gz);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, file);
  } catch (e) {
    await rm(tmp, { force: true });
    throw new FacegateError('backup', `cannot write ${file}: ${(e as Error).message}`, { cause: e });
  }
  return { file, people: facebank.people.length, samples: facebank.samples.length, files: entries.map(([p]) => p), bytes: gz.length };
}

/** The facebank a backup holds: a journal (version 2) or a facebank.json (version 1), checked record by record. */
function facebankOfBackup(version: 1 | 2, files: Map<string, Buffer>): FacebankContent {
  const name = version === 1 ? LEGACY_FILE : JOURNAL_FILE;
  const bytes = files.get(name);
  if (!bytes) throw refuse(`it has no ${name}`);
  const invalid = (e: unknown) =>
    refuse(`its ${name} is not valid: ${(e as Error).message.replace(/^The facebank .*? is refused: /, '').replace(/\. Nothing was loaded.*$/, '')}`, e);
  if (version === 1) {
    try {
      const old = parseLegacy(name, bytes);
      if (old.dropped) throw new Error(`${old.dropped} samples name a person it does not hold`);
      return old;
    } catch (e) {
      throw invalid(e);
    }
  }
  try {
    const j = loadJournal(name, bytes);
    if (j.cut) throw new Error(`its last ${j.cut} bytes are a cut-off change`);
    if (j.state.strays) throw new Error(`${j.state.strays} samples name a person it does not hold`);
    return { seq: j.seq, people: [...j.state.people.values()], samples: [...j.state.samples.values()] };
  } catch (e) {
    throw invalid(e);
  }
}

/** Parses and checks a backup completely; returns its files. Throws 'backup_invalid' on any problem. */
export function readBackup(gz: Uint8Array): { files: Map<string, Buffer>; facebank: FacebankContent; created: string } {
  let text: string;
  try {
    text = gunzipSync(gz).toString('utf8');
  } catch (e) {
    const m = (e as Error).message;
    throw refuse(/unexpected end/i.test(m) ? 'the file is truncated' : `the file is damaged or not a facegate backup (${m})`, e);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw refuse(`the contents are not valid JSON (${(e as Error).message})`, e);
  }
  const a = archiveSchema.safeParse(json);
  if (!a.success) throw refuse(`not a facegate backup version 1 or ${BACKUP_VERSION}: ${formatIssues(a.error.issues).slice(0, 5).join('; ')}`);
  const { manifest, files: encoded, created, version } = a.data;
  const files = new Map<string, Buffer>();
  for (const entry of manifest) {
    if (files.has(entry.path)) throw refuse(`${entry.path} is listed twice`);
    const b64 = encoded[entry.path];
    if (b64 === undefined) throw refuse(`${entry.path} is listed but missing`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw refuse(`${entry.path} is not valid base64`);
    const bytes = Buffer.from(b64, 'base64');
    if (bytes.length !== entry.size) throw refuse(`${entry.path} has ${bytes.length} bytes, the manifest says ${entry.size}`);
    if (sha256(bytes) !== entry.sha256) throw refuse(`${entry.path} fails its sha256 check`);
    files.set(entry.path, bytes);
  }
  for (const p of Object.keys(encoded)) if (!files.has(p)) throw refuse(`${p} is not in the manifest`);
  const facebank = facebankOfBackup(version, files);
  for (const s of facebank.samples) {
    const crop = files.get(`${SAMPLES_DIR}/${s.id}.jpg`);
    if (!crop) throw refuse(`sample ${s.id} has no crop ${SAMPLES_DIR}/${s.id}.jpg`);
    if (!isJpeg(crop)) throw refuse(`${SAMPLES_DIR}/${s.id}.jpg is not a JPEG`);
  }
  const auth = files.get('auth.json');
  if (auth) {
    try {
      JSON.parse(auth.toString('utf8'));
    } catch {
      throw refuse('its auth.json is not valid JSON');
    }
  }
  // What is restored: the journal (a version-1 facebank.json becomes one), the crops, auth.json.
  files.delete(LEGACY_FILE);
  files.set(JOURNAL_FILE, journalOf(facebank));
  return { files, facebank, created };
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

export interface RestoreSummary {
  people: number;
  samples: number;
  files: string[];
  created: string;
}

/**
 * Replaces the facebank (and auth.json when the backup has one) in `dataDir` with the backup's.
 * The caller holds the data-dir lock (store/lock.ts): a running facegate keeps its facebank in memory.
 */
export async function restoreBackup(dataDir: string, file: string): Promise<RestoreSummary> {
  let gz: Buffer;
  try {
    gz = await readFile(file);
  } catch (e) {
    throw new FacegateError('backup', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
  const { files, facebank, created } = readBackup(gz);

  await mkdir(dataDir, { recursive: true });
  const tag = randomBytes(6).toString('hex');
  const staging = path.join(dataDir, `.restore-${tag}`);
  const aside = path.join(dataDir, `.restore-old-${tag}`);
  try {
    await mkdir(path.join(staging, SAMPLES_DIR), { recursive: true });
    for (const [rel, bytes] of files) await writeSynced(path.join(staging, rel), bytes);
  } catch (e) {
    await rm(staging, { recursive: true, force: true });
    throw new FacegateError('backup', `cannot stage the restore in ${dataDir}: ${(e as Error).message}; the data directory was not changed`, { cause: e });
  }

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
    await rm(staging, { recursive: true, force: true });
    if (!restored)
      throw new FacegateError(
        'backup',
        `restore failed while swapping files (${(e as Error).message}) and could not put everything back: the previous data is in ${aside}`,
        { cause: e },
      );
    await rm(aside, { recursive: true, force: true });
    throw new FacegateError('backup', `restore failed while swapping files (${(e as Error).message}); the previous data was put back`, { cause: e });
  }
  await rm(aside, { recursive: true, force: true });
  await rm(staging, { recursive: true, force: true });
  return { people: facebank.people.length, samples: facebank.samples.length, files: [...files.keys()], created };
}
