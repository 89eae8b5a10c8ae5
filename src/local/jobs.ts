/**
 * The facebank jobs the CLI offers (enrol, list, rename, remove), written once and run in two places: inside a
 * running appliance (asked over its local socket, local/api.ts) or by the CLI itself under the data-dir lock
 * when no appliance runs (local/session.ts). Either way the change goes through the one Facebank that holds
 * the lock, so nothing is lost and the appliance sees every enrolment at once.
 */
import { readFile, stat } from 'node:fs/promises';
import type { Config } from '../config/schema.js';
import { chooseFace } from '../engine/choose-face.js';
import type { FaceEngine } from '../engine/types.js';
import { analyzePhoto, photoSide } from '../engine/photo.js';
import { decodePhoto } from '../ingest/still.js';
import type { Facebank } from '../store/facebank.js';
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

/** Stores the accepted faces as samples of `name` (created when new and at least one face is accepted). */
export async function commitEnrolment(fb: Facebank, name: string, analysed: Analysed[], modelId: string): Promise<EnrolOutcome> {
  let person: PersonRef | null = await fb.findByName(name);
  const created = !person && analysed.some((a) => a.face);
  const results: EnrolResult[] = [];
  for (const a of analysed) {
    if (!a.face) {
      results.push({ file: a.file, error: a.error, message: a.message });
      continue;
    }
    if (!person) person = await findOrCreate(fb, name);
    const s = await fb.addSample(person.id, { embedding: a.face.embedding, modelId, quality: a.face.quality, source: 'cli', crop: a.face.aligned });
    results.push({ file: a.file, sampleId: s.id, quality: a.face.quality });
  }
  return { person: person && { id: person.id, name: person.name }, created, results };
}

/** Another writer may create the same name meanwhile: then that person is the one. */
async function findOrCreate(fb: Facebank, name: string): Promise<PersonRef> {
  try {
    return await fb.createPerson(name);
  } catch (e) {
    const p = isFacegateError(e) && e.code === 'conflict' ? await fb.findByName(name) : null;
    if (!p) throw e;
    return p;
  }
}

export async function listPeople(fb: Facebank): Promise<PersonRow[]> {
  const [people, samples] = await Promise.all([fb.people(), fb.samples()]);
  return people.map((p) => ({ id: p.id, name: p.name, created: p.created, samples: samples.filter((s) => s.personId === p.id && !s.negative).length }));
}

async function find(fb: Facebank, ref: string): Promise<PersonRef> {
  const p = (await fb.person(ref)) ?? (await fb.findByName(ref));
  if (!p) throw new FacegateError('not_found', `No person named or with id "${ref}".`);
  return p;
}

export async function renamePerson(fb: Facebank, ref: string, name: string): Promise<{ id: string; from: string; name: string }> {
  const p = await find(fb, ref);
  const after = await fb.renamePerson(p.id, name);
  return { id: p.id, from: p.name, name: after.name };
}

export async function removePerson(fb: Facebank, ref: string): Promise<PersonRef> {
  const p = await find(fb, ref);
  await fb.deletePerson(p.id);
  return { id: p.id, name: p.name };
}
