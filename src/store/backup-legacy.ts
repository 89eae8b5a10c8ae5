/**
 * Reader of version 1 and 2 archives (older facegate): gzip of one JSON object
 *   { "format": "facegate-backup", "version": 1 | 2, "created": ISO time,
 *     "manifest": [ { "path", "size", "sha256" } ... ], "files": { "<path>": "<base64 bytes>" ... } }
 * Version 1 held facebank.json, version 2 a compacted facebank.journal. Read whole in memory: such archives are old
 * and small, and one whose decompressed size passes V8's longest string (the old writer could not have made it) is
 * refused before it is inflated.
 */
import { constants as bufferConstants } from 'node:buffer';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { formatIssues } from '../config/issues.js';
import { humanBytes } from '../util/bytes.js';
import { JOURNAL_FILE, loadJournal } from './facebank-journal.js';
import { LEGACY_FILE, parseLegacy } from './facebank-legacy.js';
import {
  ALLOWED_PATH,
  BACKUP_FORMAT,
  type FacebankContent,
  invalidFacebank,
  isJpeg,
  journalOf,
  refuse,
  refuseGzip,
  SAMPLES_DIR,
  sha256,
} from './backup-shared.js';

/** Largest decompressed version 1 or 2 archive read: the old writer built it as one string, so none is longer. */
export const LEGACY_MAX_BYTES = bufferConstants.MAX_STRING_LENGTH;

const archiveSchema = z
  .object({
    format: z.literal(BACKUP_FORMAT),
    version: z.union([z.literal(1), z.literal(2)]),
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

/** The facebank a backup holds: a journal (version 2) or a facebank.json (version 1), checked record by record. */
function facebankOfBackup(version: 1 | 2, files: Map<string, Buffer>): FacebankContent {
  const name = version === 1 ? LEGACY_FILE : JOURNAL_FILE;
  const bytes = files.get(name);
  if (!bytes) throw refuse(`it has no ${name}`);
  if (version === 1) {
    try {
      const old = parseLegacy(name, bytes);
      if (old.dropped) throw new Error(`${old.dropped} samples name a person it does not hold`);
      return old;
    } catch (e) {
      throw invalidFacebank(name, e);
    }
  }
  try {
    const j = loadJournal(name, bytes);
    if (j.cut) throw new Error(`its last ${j.cut} bytes are a cut-off change`);
    if (j.state.strays) throw new Error(`${j.state.strays} samples name a person it does not hold`);
    return { seq: j.seq, people: [...j.state.people.values()], samples: [...j.state.samples.values()] };
  } catch (e) {
    throw invalidFacebank(name, e);
  }
}

function inflate(gz: Uint8Array, maxBytes: number): string {
  try {
    return gunzipSync(gz, { maxOutputLength: maxBytes }).toString('utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE')
      throw refuse(
        `it is an old-format (version 1 or 2) archive that decompresses to more than ${humanBytes(maxBytes)}, more than facegate reads in that format`,
        e,
      );
    throw refuseGzip(e);
  }
}

/** Parses and checks a version 1 or 2 backup completely; returns its files. Throws 'backup_invalid' on any problem. */
export function readLegacyBackup(gz: Uint8Array, maxBytes = LEGACY_MAX_BYTES): { files: Map<string, Buffer>; facebank: FacebankContent; created: string } {
  const text = inflate(gz, maxBytes);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw refuse(`the contents are not valid JSON (${(e as Error).message})`, e);
  }
  const a = archiveSchema.safeParse(json);
  if (!a.success) throw refuse(`not a facegate backup of version 1, 2 or 3: ${formatIssues(a.error.issues).slice(0, 5).join('; ')}`);
  const { manifest, files: encoded, created, version } = a.data;
  const files = new Map<string, Buffer>();
  for (const entry of manifest) {
    if (files.has(entry.path)) throw refuse(`${entry.path} is listed twice`);
    const b64 = encoded[entry.path];
    if (b64 === undefined) throw refuse(`${entry.path} is listed but missing`);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw refuse(`${entry.path} is not valid base64`);
    const bytes = Buffer.from(b64, 'base64');
    if (bytes.length !== entry.size) throw refuse(`${entry.path} has ${bytes.length} bytes, the manifest says ${entry.size}`);
    if (sha256(bytes) !== entry.sha256) throw refuse(`${entry.path} is damaged: it fails its sha256 check`);
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
