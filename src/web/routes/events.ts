/** Recognition events: the filtered list, and corrections (this was someone else; this was not that person). */
import { Hono } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail, jsonBody, validId } from '../http.js';
import type { StoredEvent } from '../../store/events.js';
import { CAMERA_NAME_RE, isId } from '../../util/ids.js';
import { mustBodyPerson, snapshotCrop, snapshotUrl } from './common.js';

export function eventRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { engine, facebank, events } = deps;

  const eventJson = (e: StoredEvent) => ({ ...e, snapshotUrl: snapshotUrl(e.snapshot) });

  app.get('/events', (c) => {
    const person = c.req.query('person') || undefined;
    const camera = c.req.query('camera') || undefined;
    const track = c.req.query('track') || undefined;
    const corrected = c.req.query('corrected');
    if (track && !isId(track)) fail(400, 'bad_id', 'That is not a valid track id.');
    if (corrected !== undefined && corrected !== '1' && corrected !== 'true') fail(400, 'bad_request', 'corrected takes 1 (only corrected events).');
    const limitQ = c.req.query('limit');
    if (person && person !== 'unknown') validId(person, 'person');
    if (camera && !CAMERA_NAME_RE.test(camera)) fail(400, 'bad_id', 'That is not a valid camera name.');
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
    const p = await mustBodyPerson(facebank, (await jsonBody(c)).personId);
    const crop = await snapshotCrop(deps, event.snapshot);
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
    const crop = await snapshotCrop(deps, event.snapshot);
    const s = await facebank.addSample(p!.id, { embedding, modelId: engine.embedderId, quality: event.quality, source: 'event', crop, negative: true });
    events.markCorrected(event.id, 'not-person', p!.id);
    deps.bus.emit('correction', { camera: event.camera, track: event.track, kind: 'not-person', person: { id: p!.id, name: p!.name } });
    return c.json({ ok: true, sampleId: s.id, personId: p!.id }, 201);
  });

  return app;
}
