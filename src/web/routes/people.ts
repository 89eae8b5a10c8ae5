/** People and their samples; photo uploads and enrolment from a camera capture. */
import { Hono } from 'hono';
import type { Sample } from '../../store/types.js';
import type { Face } from '../../vision/types.js';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail, jsonBody, validId } from '../http.js';
import { normalizeName } from '../../store/names.js';
import { ImageReject, decodePhotoUpload } from '../images.js';
import { candidateJson, type Captures } from '../captures.js';
import { mustPerson as mustPersonIn } from './common.js';
import { analyzePhoto, photoSide } from '../../engine/photo.js';
import type { Photo } from '../../ingest/still.js';
import { chooseFace, sampleScore } from '../../engine/choose-face.js';
import { admitted } from '../admission.js';
import { jpeg, readInside } from '../files.js';
import { judgeEnrolment, resemblances, type EnrolVerdict } from '../enrol-checks.js';
import { FacegateError } from '../../util/errors.js';
import { enrolledPeople, operatingPoint } from '../../match/operating-point.js';

export const sampleJson = (s: Sample) => ({
  id: s.id,
  personId: s.personId,
  modelId: s.modelId,
  quality: s.quality,
  source: s.source,
  created: s.created,
  negative: s.negative,
  url: `/api/samples/${s.id}/crop.jpg`,
});

export function peopleRoutes(deps: AppDeps, captures: Captures): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { facebank, engine, config } = deps;
  const gate = config.pipeline.quality;

  const mustPerson = (id: string | undefined) => mustPersonIn(facebank, id);

  const enrol = (personId: string, face: Face, source: 'upload' | 'camera') =>
    facebank.addSample(personId, { embedding: face.embedding, modelId: engine.embedderId, quality: face.quality, source, crop: face.aligned });
  const threshold = config.match.threshold ?? engine.defaultThreshold;

  /** Duplicate and look-alike checks for adding `face` to person `id`. */
  const verdict = async (personId: string, personName: string, face: Face): Promise<EnrolVerdict> => {
    const [people, samples] = await Promise.all([facebank.people(), facebank.samples()]);
    return judgeEnrolment(personId, personName, resemblances(face.embedding, engine.embedderId, samples, people), threshold);
  };

  /** The face of a capture that the body names, checked before anything is created. */
  const captureFace = (body: Record<string, unknown>) => {
    const cap = typeof body.captureId === 'string' ? captures.get(body.captureId) : null;
    if (!cap) fail(404, 'capture_expired', 'That capture has expired; capture again.');
    if (typeof body.camera === 'string' && body.camera !== cap!.camera) fail(400, 'bad_camera', 'The capture came from another camera.');
    const i = body.face;
    if (typeof i !== 'number' || !Number.isInteger(i) || !cap!.faces[i]) fail(400, 'bad_face_index', 'Pick one of the captured faces.');
    const f = cap!.faces[i as number]!;
    if (!f.ok)
      fail(
        422,
        `face_${f.reason}`,
        `That face cannot be enrolled: ${f.reason === 'small' ? 'too small' : f.reason === 'blur' ? 'too blurry' : f.reason === 'pose' ? 'head turned too far' : 'not clear enough'}.`,
      );
    if (cap!.used.has(i as number)) fail(409, 'already_added', 'This face of the capture was already added.');
    return { cap: cap!, index: i as number, face: f as Face };
  };

  app.get('/people', async (c) => {
    const [people, samples] = await Promise.all([facebank.people(), facebank.samples()]);
    const best = new Map<string, { id: string; score: number }>();
    const counts = new Map<string, number>();
    for (const s of samples) {
      if (s.negative) continue;
      counts.set(s.personId, (counts.get(s.personId) ?? 0) + 1);
      const score = sampleScore(s.quality);
      const b = best.get(s.personId);
      if (!b || score > b.score) best.set(s.personId, { id: s.id, score });
    }
    return c.json({
      people: people
        .map((p) => {
          const avatar = best.get(p.id)?.id ?? null;
          return {
            ...p,
            samples: counts.get(p.id) ?? 0,
            avatar,
            avatarUrl: avatar ? `/api/samples/${avatar}/crop.jpg` : null,
            ...(deps.sync ? { origin: deps.sync.origin(p.id) } : {}),
          };
        })
        .sort((a, b) => a.name.localeCompare(b.name)),
      sync: deps.sync ? deps.sync.stats : null,
      // The threshold names are given at with this many people enrolled (match/operating-point.ts).
      operatingPoint: operatingPoint(config.match, engine.embedderId, engine.defaultThreshold, enrolledPeople(samples, engine.embedderId)),
    });
  });

  app.post('/people', async (c) => {
    const name = normalizeName((await jsonBody(c)).name);
    if (await facebank.findByName(name)) fail(409, 'duplicate_name', `There is already a person called "${name}".`);
    const p = await facebank.createPerson(name);
    return c.json(p, 201);
  });

  app.get('/people/:id', async (c) => c.json(await mustPerson(c.req.param('id'))));

  app.patch('/people/:id', async (c) => {
    const p = await mustPerson(c.req.param('id'));
    const name = normalizeName((await jsonBody(c)).name);
    const other = await facebank.findByName(name);
    if (other && other.id !== p.id) fail(409, 'duplicate_name', `There is already a person called "${name}".`);
    await facebank.renamePerson(p.id, name);
    return c.json(await facebank.person(p.id));
  });

  app.delete('/people/:id', async (c) => {
    const p = await mustPerson(c.req.param('id'));
    await facebank.deletePerson(p.id);
    return c.json({ ok: true });
  });

  app.get('/people/:id/samples', async (c) => {
    const p = await mustPerson(c.req.param('id'));
    return c.json({ samples: (await facebank.samples(p.id)).map(sampleJson) });
  });

  app.delete('/samples/:id', async (c) => {
    const id = validId(c.req.param('id'), 'sample');
    if (!(await facebank.samples()).some((s) => s.id === id)) fail(404, 'not_found', 'There is no such sample.');
    await facebank.deleteSample(id);
    return c.json({ ok: true });
  });

  app.get('/samples/:id/crop.jpg', async (c) => {
    const id = validId(c.req.param('id'), 'sample');
    if (!(await facebank.samples()).some((s) => s.id === id)) fail(404, 'not_found', 'There is no such sample.');
    return jpeg(await readInside(config.dataDir, facebank.cropPath(id)));
  });

  app.post('/people/:id/photos', async (c) => {
    const p = await mustPerson(c.req.param('id'));
    const faceParam = c.req.query('face');
    const force = c.req.query('force') === '1';
    let faceIndex: number | undefined;
    if (faceParam !== undefined) {
      if (!/^\d{1,3}$/.test(faceParam)) fail(400, 'bad_face_index', 'face must be a face number from the photo.');
      faceIndex = Number(faceParam);
    }
    if (!/^multipart\/form-data\b/i.test(c.req.header('content-type') ?? '')) fail(415, 'unsupported_media_type', 'Send the photos as multipart/form-data.');
    let form: Record<string, unknown>;
    try {
      form = await c.req.parseBody({ all: true });
    } catch {
      fail(400, 'bad_multipart', 'The upload could not be read.');
    }
    const files: File[] = Object.values(form!)
      .flat()
      .filter((v): v is File => typeof v === 'object' && v !== null && typeof (v as File).arrayBuffer === 'function');
    if (files.length === 0) fail(400, 'no_files', 'Attach one or more photos.');
    if (files.length > 50) fail(400, 'too_many_files', 'Send at most 50 photos at once.');
    const results = [];
    for (const file of files) {
      const name = file.name || 'photo';
      const reject = (reason: string, message: string, extra: object = {}) => ({ file: name, status: 'rejected' as const, reason, message, ...extra });
      if (file.size > config.web.maxUploadBytes) {
        results.push(reject('too_large', `The file has ${file.size} bytes; at most ${config.web.maxUploadBytes} are accepted.`, { bytes: file.size }));
        continue;
      }
      // Decoding and analysis are the heavy part: they wait their turn in the admission queue (429 when full).
      const bytes = new Uint8Array(await file.arrayBuffer());
      const done = await admitted(deps.admission, async () => {
        try {
          const photo: Photo = await decodePhotoUpload(bytes, config.web.maxPixels, photoSide(config.engine.detector));
          return { img: photo.image, analysed: await analyzePhoto(engine, photo, gate) };
        } catch (e) {
          if (e instanceof ImageReject) return { img: null, analysed: null, rejected: e };
          throw e;
        }
      });
      if (!done.img) {
        results.push(reject(done.rejected!.reason, done.rejected!.message));
        continue;
      }
      const { img, analysed } = done;
      const choice = chooseFace(analysed, faceIndex);
      if (choice.kind === 'reject') {
        const extra = choice.candidates ? { faces: await candidateJson(img, choice.candidates) } : {};
        results.push(reject(choice.reason, choice.message, extra));
        continue;
      }
      const v = await verdict(p.id, p.name, choice.face);
      if (v.kind === 'duplicate') {
        results.push(reject('duplicate', v.message));
        continue;
      }
      if (v.kind === 'looks_like_other' && !force) {
        results.push(reject('looks_like_other', v.message, { match: v.match, faceIndex: faceIndex ?? null }));
        continue;
      }
      const s = await enrol(p.id, choice.face, 'upload');
      results.push({ file: name, status: 'accepted' as const, sampleId: s.id, thumbnail: `/api/samples/${s.id}/crop.jpg`, quality: s.quality });
    }
    const accepted = results.filter((r) => r.status === 'accepted').length;
    deps.log.info({ person: p.id, accepted, rejected: results.length - accepted }, 'photos uploaded');
    return c.json({ accepted, rejected: results.length - accepted, results });
  });

  app.post('/people/:id/capture', async (c) => {
    const p = await mustPerson(c.req.param('id'));
    const { cap, index, face } = captureFace(await jsonBody(c));
    const v = await verdict(p.id, p.name, face);
    if (v.kind === 'duplicate') fail(409, 'duplicate', v.message);
    const s = await enrol(p.id, face, 'camera');
    cap.used.set(index, s.id);
    return c.json({ sampleId: s.id, thumbnail: `/api/samples/${s.id}/crop.jpg`, quality: s.quality }, 201);
  });

  /**
   * One transaction: a captured face to an existing person (personId) or a new one (name). Everything is checked
   * first; a new person is created only then, and removed again if the sample cannot be stored.
   */
  app.post('/captures/enrol', async (c) => {
    const body = await jsonBody(c);
    const { cap, index, face } = captureFace(body);
    let person;
    let created = false;
    if (body.personId !== undefined) person = await mustPerson(typeof body.personId === 'string' ? body.personId : '');
    else {
      const name = normalizeName(body.name);
      if (await facebank.findByName(name)) fail(409, 'duplicate_name', `There is already a person called "${name}"; pick them from the list.`);
      person = { id: '', name };
    }
    if (person.id) {
      const v = await verdict(person.id, person.name, face);
      if (v.kind === 'duplicate') fail(409, 'duplicate', v.message);
    }
    if (!person.id) {
      person = await facebank.createPerson(person.name);
      created = true;
    }
    let sampleId: string;
    try {
      sampleId = (await enrol(person.id, face, 'camera')).id;
    } catch (e) {
      if (created) await facebank.deletePerson(person.id);
      throw e instanceof FacegateError ? e : new FacegateError('enrol_failed', `The face could not be stored: ${(e as Error).message}`);
    }
    cap.used.set(index, sampleId);
    return c.json({ personId: person.id, name: person.name, created, sampleId, thumbnail: `/api/samples/${sampleId}/crop.jpg` }, 201);
  });

  return app;
}
