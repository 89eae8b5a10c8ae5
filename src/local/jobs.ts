/**
 * The facebank jobs the CLI offers (enrol, list, rename, remove), written once and run in two places: inside a
 * running appliance (asked over its local socket, local/api.ts) or by the CLI itself under the data-dir lock
 * when no appliance runs (local/session.ts). Either way the change goes through the facebank's one owner
 * (src/enrol) over the Facebank that holds the lock, so the CLI follows the page's rules (names, look-alikes,
 * duplicates), nothing is lost and the appliance sees every enrolment at once. A name that exists is the explicit
 * "add to that person" of `facegate enroll`; a name that only looks the same as an enrolled one is refused.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import { chooseFace } from '../engine/choose-face.js';
import type { FaceEngine } from '../engine/types.js';
import { analyzePhoto, photoSide } from '../engine/photo.js';
import { decodePhoto } from '../ingest/still.js';
import type { Bus } from '../events/bus.js';
import type { Facebank } from '../store/facebank.js';
import { Enrolment } from '../enrol/service.js';
import type { EmbedderFacts } from '../enrol/point.js';
import { FacegateError, isFacegateError } from '../util/errors.js';
import type { Face } from '../vision/types.js';

export interface PersonRef {
  id: string;
  name: string;
}

export interface PersonRow extends PersonRef {
  created: string;
  samples: number;
}

/** One photo's outcome: a sample id, or the refusal (error code and sentence). */
export interface EnrolResult {
  file: string;
  sampleId?: string;
  quality?: object;
  error?: string;
  message?: string;
}

export interface EnrolOutcome {
  person: PersonRef | null;
  created: boolean;
  results: EnrolResult[];
}

/** A photo to enrol: its name (for messages) and bytes. */
export interface EnrolPhoto {
  file: string;
  bytes: Uint8Array;
}

/** The analysis of one photo: the face to store, or why not. */
export type Analysed = { file: string; face: Face } | { file: string; face?: undefined; error: string; message: string };

/** Runs heavy engine work; the appliance passes its admission queue here. */
export type Admit = <T>(job: () => Promise<T>) => Promise<T>;

const direct: Admit = (job) => job();

/** The largest photo the CLI accepts (bigger than the page's limit: files on disk are trusted more). */
export const cliMaxBytes = (config: Pick<Config, 'web'>) => config.web.maxUploadBytes * 10;

/** Reads a photo for enrolment with the same limits wherever it is decoded. */
export async function readPhoto(file: string, maxBytes: number): Promise<EnrolPhoto> {
  let size: number;
  try {
    const st = await stat(file);
    if (st.isDirectory()) throw new FacegateError('is_directory', `${file} is a directory; name the photos in it (e.g. ${file}/*.jpg).`);
    size = st.size;
  } catch (e) {
    if (isFacegateError(e)) throw e;
    throw new FacegateError('not_found', `${file}: no such file`);
  }
  if (size > maxBytes) throw new FacegateError('too_large', `${file} is ${size} bytes, more than the limit of ${maxBytes}`);
  return { file, bytes: await readFile(file) };
}

/** Decode, detect and pick the face of each photo; a refusal is a result, never an exception. */
export async function analysePhotos(
  engine: FaceEngine,
  config: Pick<Config, 'web' | 'engine' | 'pipeline'>,
  photos: EnrolPhoto[],
  faceIndex?: number,
  admit: Admit = direct,
): Promise<Analysed[]> {
  const out: Analysed[] = [];
  for (const { file, bytes } of photos) {
    try {
      const face = await admit(async () => {
        const photo = await decodePhoto(bytes, { maxBytes: cliMaxBytes(config), maxPixels: config.web.maxPixels, maxSide: photoSide(config.engine.detector) });
        return chooseFace(await analyzePhoto(engine, photo, config.pipeline.quality), faceIndex);
      });
      if (face.kind === 'reject') out.push({ file, error: face.reason, message: face.message });
      else out.push({ file, face: face.face });
    } catch (e) {
      if (!isFacegateError(e) || e.code === 'busy') throw e;
      out.push({ file, error: e.code, message: e.message.replace(/^the image/, file) });
    }
  }
  return out;
}

/** Stores the accepted faces as samples of `name` (created when new and at least one face is stored), through the owner. */
export async function commitEnrolment(owner: Enrolment, name: string, analysed: Analysed[], force = false): Promise<EnrolOutcome> {
  const faces = analysed.flatMap((a) => (a.face ? [{ file: a.file, face: a.face }] : []));
  const results: EnrolResult[] = analysed.map((a) => (a.face ? { file: a.file } : { file: a.file, error: a.error, message: a.message }));
  if (!faces.length) return { person: null, created: false, results };
  const out = await owner.addFaces(
    { name, ifExists: 'add' },
    faces.map((f) => ({ embedding: f.face.embedding, quality: f.face.quality, crop: f.face.aligned })),
    { source: 'cli', force },
  );
  const slots = results.filter((r) => !r.error);
  for (const r of out.results) {
    const slot = slots[r.index]!;
    if (r.sampleId) Object.assign(slot, { sampleId: r.sampleId, quality: faces[r.index]!.face.quality });
    else Object.assign(slot, { error: r.status, message: r.message });
  }
  return { person: out.person && { id: out.person.id, name: out.person.name }, created: out.created, results };
}

/** The owner for a CLI job run in this process under the data-dir lock (no event stores here). */
export async function cliEnrolment(fb: Facebank, config: Pick<Config, 'dataDir' | 'match'>, embedder: EmbedderFacts | null, bus?: Bus): Promise<Enrolment> {
  const owner = new Enrolment({
    dataDir: config.dataDir,
    facebank: fb,
    bus,
    match: config.match,
    embedder: () => {
      if (!embedder) throw new FacegateError('usage', 'This job has no face engine loaded.');
      return embedder;
    },
  });
  await owner.open();
  return owner;
}

export async function listPeople(owner: Pick<Enrolment, 'people' | 'samples'>): Promise<PersonRow[]> {
  const [people, samples] = await Promise.all([owner.people(), owner.samples()]);
  const counts = new Map<string, number>();
  for (const s of samples) if (!s.negative) counts.set(s.personId, (counts.get(s.personId) ?? 0) + 1);
  return people.map((p) => ({ id: p.id, name: p.name, created: p.created, samples: counts.get(p.id) ?? 0 }));
}

async function find(owner: Enrolment, ref: string): Promise<PersonRef> {
  const p = (await owner.person(ref)) ?? (await owner.findByName(ref));
  if (!p) throw new FacegateError('not_found', `No person named or with id "${ref}".`);
  return p;
}

export async function renamePerson(owner: Enrolment, ref: string, name: string): Promise<{ id: string; from: string; name: string }> {
  const p = await find(owner, ref);
  const after = await owner.renamePerson(p.id, name);
  return { id: p.id, from: p.name, name: after.name };
}

export async function removePerson(owner: Enrolment, ref: string): Promise<PersonRef> {
  const p = await find(owner, ref);
  await owner.deletePerson(p.id);
  return { id: p.id, name: p.name };
}
