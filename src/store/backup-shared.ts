/** What the backup writer and both archive readers share: paths a backup may hold, checks, and the refusal sentence. */
import { createHash } from 'node:crypto';
import { FacegateError } from '../util/errors.js';
import { ID_PATTERN } from '../util/ids.js';
import { compactedFrames } from './facebank-journal.js';
import type { Person, Sample } from './types.js';

export const BACKUP_FORMAT = 'facegate-backup';
export const SAMPLES_DIR = 'samples';
/** Included when present; restored only when in the backup (an existing one is otherwise kept). */
export const OPTIONAL_FILES = ['auth.json'] as const;

/** Every path a backup of any version may hold (version 1 held facebank.json instead of facebank.journal). */
export const ALLOWED_PATH = new RegExp(`^(facebank\\.journal|facebank\\.json|auth\\.json|${SAMPLES_DIR}/${ID_PATTERN}\\.jpg)$`);

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
export const isJpeg = (b: Uint8Array) => b.length >= 4 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;

/** The records a backup holds. */
export interface FacebankContent {
  seq: number;
  people: Person[];
  samples: Sample[];
}

/** The one sentence every refused restore ends with. */
export const refuse = (message: string, cause?: unknown) =>
  new FacegateError('backup_invalid', `backup refused: ${message}; the data directory was not changed`, { cause });

/** A gzip error as a refusal: a cut-off file, or damage. */
export function refuseGzip(e: unknown): FacegateError {
  const m = (e as Error).message;
  return refuse(/unexpected end/i.test(m) ? 'the file is truncated' : `the file is damaged or not a facegate backup (${m})`, e);
}

/** The frames of a compacted journal of these records, one chunk of records at a time. */
export const journalFramesOf = (fb: FacebankContent) => compactedFrames({ format: 'facegate-facebank', version: 2, seq: fb.seq }, fb.people, fb.samples);

/** A compacted journal of these records (what a backup holds and a restore writes). */
export const journalOf = (fb: FacebankContent) => Buffer.concat([...journalFramesOf(fb)]);

/** A journal's load error as the reason a backup's facebank is refused. */
export const invalidFacebank = (name: string, e: unknown) =>
  refuse(`its ${name} is not valid: ${(e as Error).message.replace(/^The facebank .*? is refused: /, '').replace(/\. Nothing was loaded.*$/, '')}`, e);
