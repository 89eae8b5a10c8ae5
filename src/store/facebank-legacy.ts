/**
 * The facebank's older format: one <dataDir>/facebank.json (lowdb) with every person and sample, embeddings as
 * JSON numbers. Read once, checked against the schema, and imported into the journal (facebank.ts); also the
 * form a version-1 backup holds.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { formatIssues } from '../config/issues.js';
import { FacegateError } from '../util/errors.js';
import { refused } from './facebank-state.js';
import { personSchema, sampleSchema, type Person, type Sample } from './types.js';

export const LEGACY_FILE = 'facebank.json';
export const LEGACY_VERSION = 1;

const legacySchema = z.object({
  version: z.number().int().min(1),
  seq: z.number().int().min(0).optional(),
  people: z.array(personSchema),
  samples: z.array(sampleSchema),
});

export interface LegacyFacebank {
  seq: number;
  people: Person[];
  samples: Sample[];
  /** Samples left out because their person is not in the file. */
  dropped: number;
  sha256: string;
}

/** Parses and checks a facebank.json; refuses (naming the record and field) anything that breaks the schema. */
export function parseLegacy(file: string, bytes: Uint8Array): LegacyFacebank {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch (e) {
    throw refused(file, `it is not valid JSON (${(e as Error).message})`);
  }
  const version = (json as { version?: unknown } | null)?.version;
  if (typeof version === 'number' && version > LEGACY_VERSION)
    throw new FacegateError('facebank_version', `The facebank ${file} is version ${version}; this facegate reads up to ${LEGACY_VERSION}.`);
  const r = legacySchema.safeParse(json);
  if (!r.success) {
    const lines = formatIssues(r.error.issues);
    throw refused(file, `it breaks the facebank schema at ${lines.slice(0, 5).join('; ')}${lines.length > 5 ? ` (and ${lines.length - 5} more)` : ''}`);
  }
  const d = r.data;
  const people = new Set<string>();
  d.people.forEach((p, i) => {
    if (people.has(p.id)) throw refused(file, `people[${i}].id repeats the person id ${p.id}`);
    people.add(p.id);
  });
  const samples = new Set<string>();
  d.samples.forEach((s, i) => {
    if (samples.has(s.id)) throw refused(file, `samples[${i}].id repeats the sample id ${s.id}`);
    samples.add(s.id);
  });
  const kept = d.samples.filter((s) => people.has(s.personId));
  return {
    seq: d.seq ?? 0,
    people: d.people,
    samples: kept.map((s) => ({ ...s, embedding: Float32Array.from(s.embedding) })),
    dropped: d.samples.length - kept.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
}
