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
import { ID_RE } from '../util/ids.js';
import { personSchema, SAMPLE_SOURCES, sampleSchema, type Person, type Sample } from './types.js';

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
  let d: z.infer<typeof legacySchema>;
  if (plainFacebank(json)) d = json;
  else {
    const r = legacySchema.safeParse(json);
    if (!r.success) {
      const lines = formatIssues(r.error.issues);
      throw refused(file, `it breaks the facebank schema at ${lines.slice(0, 5).join('; ')}${lines.length > 5 ? ` (and ${lines.length - 5} more)` : ''}`);
    }
    d = r.data;
  }
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
    // Exactly the schema's fields (the file may hold others; the journal refuses them).
    people: d.people.map((p) => ({ id: p.id, name: p.name, created: p.created, notes: p.notes })),
    samples: kept.map((s) => ({
      id: s.id,
      personId: s.personId,
      embedding: Float32Array.from(s.embedding),
      modelId: s.modelId,
      quality: { size: s.quality.size, score: s.quality.score, blur: s.quality.blur, yaw: s.quality.yaw, pitch: s.quality.pitch, roll: s.quality.roll },
      source: s.source,
      created: s.created,
      negative: s.negative,
    })),
    dropped: d.samples.length - kept.length,
    sha256: sha256Of(bytes),
  };
}

export const sha256Of = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

const isId = (v: unknown) => typeof v === 'string' && ID_RE.test(v);
const isTime = (v: unknown) => typeof v === 'string' && !Number.isNaN(Date.parse(v));
const QUALITY_KEYS = ['size', 'score', 'blur', 'yaw', 'pitch', 'roll'];
const SOURCES = new Set<unknown>(SAMPLE_SOURCES);

/**
 * The schema's rules checked by hand over the whole file (zod takes a minute over 50,000 embeddings on a small
 * box); when this says no, zod words the refusal. Extra keys are allowed, as the schema allows (and drops) them.
 */
function plainFacebank(j: unknown): j is z.infer<typeof legacySchema> {
  const d = j as { version?: unknown; seq?: unknown; people?: unknown; samples?: unknown } | null;
  if (d === null || typeof d !== 'object' || !Number.isInteger(d.version) || (d.seq !== undefined && !(Number.isInteger(d.seq) && (d.seq as number) >= 0)))
    return false;
  if (!Array.isArray(d.people) || !Array.isArray(d.samples)) return false;
  for (const p of d.people as Record<string, unknown>[])
    if (!(p && isId(p.id) && typeof p.name === 'string' && p.name.length > 0 && isTime(p.created) && typeof p.notes === 'string')) return false;
  for (const s of d.samples as Record<string, unknown>[]) {
    if (!(s && isId(s.id) && isId(s.personId) && typeof s.modelId === 'string' && s.modelId.length > 0 && SOURCES.has(s.source) && isTime(s.created)))
      return false;
    if (typeof s.negative !== 'boolean' || !Array.isArray(s.embedding) || s.embedding.length === 0) return false;
    for (const v of s.embedding as unknown[]) if (typeof v !== 'number' || !Number.isFinite(v)) return false;
    const q = s.quality as Record<string, unknown> | null;
    if (q === null || typeof q !== 'object') return false;
    for (const k of QUALITY_KEYS) if (typeof q[k] !== 'number' || !Number.isFinite(q[k])) return false;
  }
  return true;
}
