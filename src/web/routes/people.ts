/** People and their samples; photo uploads and enrolment from a camera capture, all through the owner (src/enrol). */
import { Hono } from 'hono';
import type { Sample } from '../../store/types.js';
import { enrolmentStrength } from '../../match/enrolment-strength.js';
import type { Face } from '../../vision/types.js';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail, jsonBody, readQuery, validId } from '../http.js';
import { photosQuery } from '../api-schemas.js';
import { ImageReject, decodePhotoUpload } from '../images.js';
import { candidateJson, type Captures } from '../captures.js';
import { enrolAnswer, forced, mustPerson as mustPersonIn } from './common.js';
import { analyzePhoto, photoSide } from '../../engine/photo.js';
import type { Photo } from '../../ingest/still.js';
import { chooseFace, sampleScore } from '../../engine/choose-face.js';
import { admitted } from '../admission.js';
import { jpeg, readInside } from '../files.js';
import { EnrolRefusal, type FaceResult } from '../../enrol/service.js';

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

const faceIn = (f: Face) => ({ embedding: f.embedding, quality: f.quality, crop: f.aligned });

/** A face the owner left out, as a refusal: 409 duplicate, 422 looks like someone else (with who and how alike). */
function refusedFace(r: FaceResult): never {
  if (r.status === 'duplicate') fail(409, 'duplicate', r.message!);
  throw new EnrolRefusal('looks_like_other', r.message!, { match: r.match });
}

export function peopleRoutes(deps: AppDeps, captures: Captures): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { facebank, enrol, engine, config } = deps;
  const gate = config.pipeline.quality;

  const mustPerson = (id: string | undefined) => mustPersonIn(facebank, id);

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
    const byPerson = new Map<string, Sample[]>();
    for (const s of samples) {
      const list = byPerson.get(s.personId);
      if (list) list.push(s);
      else byPerson.set(s.personId, [s]);
    }
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
            // How well the photos cover the person, and the photo that would help most (match/enrolment-strength.ts).
            strength: (({ level, hint }) => ({ level, hint }))(enrolmentStrength(byPerson.get(p.id) ?? [])),
            ...(deps.sync ? { origin: deps.sync.origin(p.id) } : {}),
          };
        })
        .sort((a, b) => a.name.localeCompare(b.name)),
      sync: deps.sync ? deps.sync.stats : null,
      // The threshold the live matcher names people at now, with N, the target and where it comes from (src/enrol/point.ts).
      operatingPoint: await enrol.operatingPoint(),
    });
  });

  app.get('/operating-point', async (c) => c.json(await enrol.operatingPoint()));

  app.post('/people', async (c) => {
    const body = await jsonBody(c);
    return enrolAnswer(
      c,
      () => enrol.createPerson(body.name),
      (p) => c.json(p, 201),
    );
  });

  app.get('/people/:id', async (c) => c.json(await mustPerson(c.req.param('id'))));

  app.patch('/people/:id', async (c) => {
    const p = await mustPerson(c.req.param('id'));
    const body = await jsonBody(c);
    return enrolAnswer(
      c,
      () => enrol.renamePerson(p.id, body.name),
      (after) => c.json(after),
    );
  });

  app.delete('/people/:id', async (c) => {
    const p = await mustPerson(c.req.param('id'));
    await enrol.deletePerson(p.id);
    return c.json({ ok: true });
  });

  app.get('/people/:id/samples', async (c) => {
    const p = await mustPerson(c.req.param('id'));
    return c.json({ samples: (await facebank.samples(p.id)).map(sampleJson) });
  });

  app.delete('/samples/:id', async (c) => {
    const id = validId(c.req.param('id'), 'sample');
    if (!(await facebank.samples()).some((s) => s.id === id)) fail(404, 'not_found', 'There is no such sample.');
    return c.json({ ok: true, change: await enrol.deleteSample(id) });
  });

  app.get('/samples/:id/crop.jpg', async (c) => {
    const id = validId(c.req.param('id'), 'sample');
    if (!(await facebank.samples()).some((s) => s.id === id)) fail(404, 'not_found', 'There is no such sample.');
    return jpeg(await readInside(config.dataDir, facebank.cropPath(id)));
  });

  app.post('/people/:id/photos', async (c) => {
    const p = await mustPerson(c.req.param('id'));
    const { face: faceIndex } = readQuery(c, photosQuery, {
      face: ['bad_face_index', 'face must be a face number from the photo.'],
      force: ['bad_request', 'force takes 1 (add a face that looks like someone else anyway).'],
    });
    const force = forced(c);
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
    type Row = { file: string; status: 'accepted' | 'rejected'; [k: string]: unknown };
    const results: Row[] = [];
    const chosen: { row: number; face: Face }[] = [];
    for (const file of files) {
      const name = file.name || 'photo';
      const reject = (reason: string, message: string, extra: object = {}): Row => ({ file: name, status: 'rejected', reason, message, ...extra });
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
      const choice = chooseFace(done.analysed, faceIndex);
      if (choice.kind === 'reject') {
        const extra = choice.candidates ? { faces: await candidateJson(done.img, choice.candidates) } : {};
        results.push(reject(choice.reason, choice.message, extra));
        continue;
      }
      chosen.push({ row: results.length, face: choice.face });
      results.push({ file: name, status: 'rejected', reason: 'pending', message: '' });
    }
    let change = null;
    if (chosen.length) {
      // One action for the whole upload: each face checked on its own (duplicates, look-alikes), one Undo.
      const out = await enrol.addFaces(
        { personId: p.id },
        chosen.map((x) => faceIn(x.face)),
        { source: 'upload', force },
      );
      change = out.change;
      for (const r of out.results) {
        const { row, face } = chosen[r.index]!;
        const file = results[row]!.file;
        results[row] =
          r.status === 'added'
            ? { file, status: 'accepted', sampleId: r.sampleId, thumbnail: `/api/samples/${r.sampleId}/crop.jpg`, quality: face.quality }
            : { file, status: 'rejected', reason: r.status, message: r.message, ...(r.match ? { match: r.match, faceIndex: faceIndex ?? null } : {}) };
      }
    }
    const accepted = results.filter((r) => r.status === 'accepted').length;
    deps.log.info({ person: p.id, accepted, rejected: results.length - accepted }, 'photos uploaded');
    return c.json({ accepted, rejected: results.length - accepted, results, change });
  });

  app.post('/people/:id/capture', async (c) => {
    const p = await mustPerson(c.req.param('id'));
    const body = await jsonBody(c);
    const { cap, index, face } = captureFace(body);
    return enrolAnswer(
      c,
      async () => {
        const out = await enrol.addFaces({ personId: p.id }, [faceIn(face)], { source: 'camera', force: forced(c, body) });
        const r = out.results[0]!;
        if (!r.sampleId) refusedFace(r);
        cap.used.set(index, r.sampleId!);
        return { sampleId: r.sampleId!, change: out.change };
      },
      ({ sampleId, change }) => c.json({ sampleId, thumbnail: `/api/samples/${sampleId}/crop.jpg`, quality: face.quality, change }, 201),
    );
  });

  /**
   * A captured face to an existing person (personId) or a new one (name): the owner checks everything first and
   * creates the new person only when the face is stored.
   */
  app.post('/captures/enrol', async (c) => {
    const body = await jsonBody(c);
    const { cap, index, face } = captureFace(body);
    const target =
      body.personId !== undefined ? { personId: (await mustPerson(typeof body.personId === 'string' ? body.personId : '')).id } : { name: body.name };
    return enrolAnswer(
      c,
      async () => {
        const out = await enrol.addFaces(target, [faceIn(face)], { source: 'camera', force: forced(c, body) });
        const r = out.results[0]!;
        if (!r.sampleId) refusedFace(r);
        cap.used.set(index, r.sampleId!);
        return { out, sampleId: r.sampleId! };
      },
      ({ out, sampleId }) =>
        c.json(
          {
            personId: out.person!.id,
            name: out.person!.name,
            created: out.created,
            sampleId,
            thumbnail: `/api/samples/${sampleId}/crop.jpg`,
            change: out.change,
          },
          201,
        ),
    );
  });

  return app;
}
