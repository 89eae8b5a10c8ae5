/** Cameras (status, annotated frame, capture), events with corrections, snapshots, and unknown-face clusters. */
import { Hono } from 'hono';
import type { RgbImage } from '../../vision/types.js';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail, jsonBody, personName, validId } from '../http.js';
import { annotatedJpeg, decodeFile, encodeJpeg } from '../images.js';
import { overlayFaces } from '../overlay.js';
import { resemblances } from '../enrol-checks.js';
import { candidates } from '../../engine/choose-face.js';
import { jpeg, readInside } from '../files.js';
import { candidateJson, type Captures } from './people.js';
import { clusterEmbeddings } from '../../match/cluster.js';
import type { StoredEvent } from '../../store/events.js';

const CAMERA_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
const snapUrl = (id: string | null) => (id ? `/api/snapshots/${id}.jpg` : null);

export function liveRoutes(deps: AppDeps, captures: Captures, clusterThreshold: number): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { cameras, engine, facebank, events, unknowns, config } = deps;

  const mustCamera = async (name: string | undefined) => {
    if (!name || !CAMERA_RE.test(name)) fail(400, 'bad_id', 'That is not a valid camera name.');
    const st = (await cameras.list()).find((s) => s.camera === name);
    if (!st) fail(404, 'not_found', `There is no camera "${name}".`);
    return name!;
  };

  const mustPerson = async (id: unknown) => {
    if (typeof id !== 'string') fail(400, 'bad_request', 'Give personId.');
    const p = await facebank.person(validId(id as string, 'person'));
    if (!p) fail(404, 'not_found', 'There is no such person.');
    return p!;
  };

  /** The face picture of a snapshot, as RGB; a grey square when the snapshot is gone. */
  const snapshotCrop = async (id: string | null): Promise<RgbImage> => {
    if (id && /^[A-Za-z0-9_-]{1,80}$/.test(id)) {
      const p = await deps.snapshots.path(id);
      if (p) {
        try {
          await readInside(config.dataDir, p);
          return await decodeFile(p);
        } catch {
          /* fall through */
        }
      }
    }
    return { width: 112, height: 112, data: new Uint8Array(112 * 112 * 3).fill(128) };
  };

  app.get('/cameras', async (c) => c.json({ cameras: await cameras.list() }));

  /** A camera's newest frame and the faces the pipeline found on it; 404 before the first frame. */
  const frameWithFaces = async (param: string | undefined) => {
    const name = await mustCamera(param);
    const frame = await cameras.latestFrame(name);
    if (!frame) fail(404, 'no_frame', `Camera "${name}" has no frame yet.`);
    const latest = await cameras.latestFaces(name);
    return { name, frame: frame!, faces: Array.isArray(latest) ? latest : (latest?.boxes ?? []) };
  };

  app.get('/cameras/:name/frame.jpg', async (c) => {
    const { frame, faces } = await frameWithFaces(c.req.param('name'));
    return jpeg(await annotatedJpeg(frame, faces), 'no-store');
  });

  /** The newest frame (plain JPEG as a data URL) and the faces found on that very frame, for the page to draw. */
  app.get('/cameras/:name/live', async (c) => {
    const { name, frame, faces } = await frameWithFaces(c.req.param('name'));
    const image = `data:image/jpeg;base64,${(await encodeJpeg(frame, 80)).toString('base64')}`;
    return c.json({ camera: name, width: frame.width, height: frame.height, image, faces: overlayFaces(faces) });
  });

  /** Freezes the newest frame: its faces, numbered, each with who it most resembles (to pre-select). */
  app.post('/cameras/:name/capture', async (c) => {
    const name = await mustCamera(c.req.param('name'));
    const frame = await cameras.latestFrame(name);
    if (!frame) fail(404, 'no_frame', `Camera "${name}" has no frame yet.`);
    const [r] = await engine.analyze([frame!], config.pipeline.quality);
    const faces = candidates(r);
    const captureId = captures.put(name, faces, frame!);
    const [people, samples] = await Promise.all([facebank.people(), facebank.samples()]);
    const threshold = config.match.threshold ?? engine.defaultThreshold;
    const json = await candidateJson(frame!, faces);
    const withMatch = json.map((f, i) => {
      const cand = faces[i];
      const best = cand.ok ? resemblances(cand.embedding, engine.embedderId, samples, people)[0] : undefined;
      return { ...f, match: best && best.similarity >= threshold ? best : null };
    });
    const image = `data:image/jpeg;base64,${(await encodeJpeg(frame!, 85)).toString('base64')}`;
    return c.json({ captureId, camera: name, width: frame!.width, height: frame!.height, image, faces: withMatch });
  });

  app.get('/snapshots/:file', async (c) => {
    const m = /^([A-Za-z0-9_-]{1,80})\.jpg$/.exec(c.req.param('file'));
    if (!m) fail(400, 'bad_id', 'That is not a valid snapshot id.');
    return jpeg(await readInside(config.dataDir, await deps.snapshots.path(m![1])));
  });

  const eventJson = (e: StoredEvent) => ({ ...e, snapshotUrl: snapUrl(e.snapshot) });

  app.get('/events', (c) => {
    const person = c.req.query('person') || undefined;
    const camera = c.req.query('camera') || undefined;
    const track = c.req.query('track') || undefined;
    const corrected = c.req.query('corrected');
    if (track && !/^[A-Za-z0-9_-]{1,80}$/.test(track)) fail(400, 'bad_id', 'That is not a valid track id.');
    if (corrected !== undefined && corrected !== '1' && corrected !== 'true') fail(400, 'bad_request', 'corrected takes 1 (only corrected events).');
    const limitQ = c.req.query('limit');
    if (person && person !== 'unknown') validId(person, 'person');
    if (camera && !CAMERA_RE.test(camera)) fail(400, 'bad_id', 'That is not a valid camera name.');
    let limit = 100;
    if (limitQ !== undefined) {
      limit = Number(limitQ);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) fail(400, 'bad_limit', 'limit is a whole number from 1 to 1000.');
    }
    return c.json({ events: events.list({ person, camera, track, corrected: corrected !== undefined, limit }).map(eventJson) });
  });

  const mustEvent = (id: string | undefined) => {
    const x = events.get(validId(id, 'event'));
    if (!x) fail(404, 'not_found', 'There is no such event (it may have aged out).');
    if (!x!.embedding) fail(422, 'no_embedding', 'This event kept no face to learn from.');
    return x! as { event: StoredEvent; embedding: Float32Array };
  };

  app.post('/events/:id/reassign', async (c) => {
    const { event, embedding } = mustEvent(c.req.param('id'));
    const p = await mustPerson((await jsonBody(c)).personId);
    const crop = await snapshotCrop(event.snapshot);
    const s = await facebank.addSample(p.id, { embedding, modelId: engine.embedderId, quality: event.quality, source: 'event', crop });
    events.markCorrected(event.id, 'reassigned', p.id);
    deps.bus.emit('correction', { camera: event.camera, track: event.track, kind: 'reassigned', person: { id: p.id, name: p.name } });
    return c.json({ ok: true, sampleId: s.id, personId: p.id }, 201);
  });

  app.post('/events/:id/not-person', async (c) => {
    const { event, embedding } = mustEvent(c.req.param('id'));
    if (!event.person) fail(409, 'no_person', 'This event named nobody; there is nothing to undo.');
    const p = await facebank.person(event.person!.id);
    if (!p) fail(404, 'not_found', 'The person of this event no longer exists.');
    const crop = await snapshotCrop(event.snapshot);
    const s = await facebank.addSample(p!.id, { embedding, modelId: engine.embedderId, quality: event.quality, source: 'event', crop, negative: true });
    events.markCorrected(event.id, 'not-person', p!.id);
    deps.bus.emit('correction', { camera: event.camera, track: event.track, kind: 'not-person', person: { id: p!.id, name: p!.name } });
    return c.json({ ok: true, sampleId: s.id, personId: p!.id }, 201);
  });

  const clusters = () => {
    const faces = unknowns.list();
    const groups = clusterEmbeddings(
      faces.map((f) => f.embedding),
      { threshold: clusterThreshold },
    );
    return groups.map((g) => {
      const members = g.map((i) => faces[i]);
      // The cluster id is its oldest member's id: stable while faces join.
      const oldest = members.reduce((a, b) => (a.time <= b.time ? a : b));
      return { id: oldest.id, members };
    });
  };

  app.get('/unknowns', (c) =>
    c.json({
      threshold: clusterThreshold,
      clusters: clusters().map((cl) => ({
        id: cl.id,
        size: cl.members.length,
        first: cl.members.reduce((a, b) => (a.time <= b.time ? a : b)).time,
        last: cl.members.reduce((a, b) => (a.time >= b.time ? a : b)).time,
        cameras: [...new Set(cl.members.map((m) => m.camera))],
        members: cl.members.map((m) => ({ id: m.id, camera: m.camera, time: m.time, snapshotUrl: snapUrl(m.snapshot) })),
      })),
    }),
  );

  const mustCluster = (id: string | undefined) => {
    const cid = validId(id, 'cluster');
    const cl = clusters().find((x) => x.members.some((m) => m.id === cid));
    if (!cl) fail(404, 'not_found', 'That group of unknown faces is gone; reload.');
    return cl!;
  };

  app.post('/unknowns/:id/name', async (c) => {
    const cl = mustCluster(c.req.param('id'));
    const body = await jsonBody(c);
    // memberIds: the faces the user ticked; the others stay unknown.
    if (body.memberIds !== undefined) {
      if (!Array.isArray(body.memberIds) || body.memberIds.length === 0 || !body.memberIds.every((x) => typeof x === 'string'))
        fail(400, 'bad_members', 'memberIds lists at least one face of the group.');
      const chosen = new Set(body.memberIds as string[]);
      cl.members = cl.members.filter((m) => chosen.has(m.id));
      if (cl.members.length !== chosen.size) fail(409, 'members_gone', 'Some of the chosen faces are no longer in this group; reload.');
    }
    let person;
    let created = false;
    if (body.personId !== undefined) person = await mustPerson(body.personId);
    else {
      const name = personName(body.name);
      person = await facebank.findByName(name);
      if (!person) {
        person = await facebank.createPerson(name);
        created = true;
      }
    }
    const sampleIds: string[] = [];
    for (const m of cl.members) {
      const s = await facebank.addSample(person.id, {
        embedding: Float32Array.from(m.embedding),
        modelId: engine.embedderId,
        quality: m.quality,
        source: 'unknown',
        crop: await snapshotCrop(m.snapshot),
      });
      sampleIds.push(s.id);
    }
    unknowns.remove(cl.members.map((m) => m.id));
    return c.json({ ok: true, personId: person.id, created, sampleIds }, 201);
  });

  app.post('/unknowns/:id/dismiss', (c) => {
    const cl = mustCluster(c.req.param('id'));
    unknowns.remove(cl.members.map((m) => m.id));
    return c.json({ ok: true, dismissed: cl.members.length });
  });

  return app;
}
