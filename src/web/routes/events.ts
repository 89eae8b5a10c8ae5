/** Recognition events: the filtered list, and corrections (this was someone else; this was not that person), made by the owner (src/enrol). */
import { Hono, type Context } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { fail, jsonBody, validId } from '../http.js';
import type { StoredEvent } from '../../store/events.js';
import { CAMERA_NAME_RE, isId } from '../../util/ids.js';
import { enrolAnswer, forced, mustBodyPerson, snapshotUrl } from './common.js';

export function eventRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { enrol, facebank, events } = deps;

  const eventJson = (e: StoredEvent) => ({ ...e, snapshotUrl: snapshotUrl(e.snapshot) });

  app.get('/events', async (c) => {
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
    // The threshold in use now: the page words similarities against it (and never calls an unnamed face a match).
    const operatingPoint = await enrol.operatingPoint();
    return c.json({ events: events.list({ person, camera, track, corrected: corrected !== undefined, limit }).map(eventJson), operatingPoint });
  });

  const correct = async (c: Context<AppEnv>, req: { kind: 'reassigned'; personId: string } | { kind: 'not-person' }, force: boolean) =>
    enrolAnswer(
      c,
      () => enrol.correctEvent(validId(c.req.param('id'), 'event'), req, force),
      (r) => c.json({ ok: true, ...r, personId: r.correction.personId }, r.already ? 200 : 201),
    );

  app.post('/events/:id/reassign', async (c) => {
    const body = await jsonBody(c);
    const p = await mustBodyPerson(facebank, body.personId);
    return correct(c, { kind: 'reassigned', personId: p.id }, forced(c, body));
  });

  app.post('/events/:id/not-person', async (c) => correct(c, { kind: 'not-person' }, false));

  return app;
}
