/** Recognition events: the filtered list, and corrections (this was someone else; this was not that person), made by the owner (src/enrol). */
import { Hono, type Context } from 'hono';
import type { AppDeps } from '../ports.js';
import type { AppEnv } from '../env.js';
import { jsonBody, readQuery, validId } from '../http.js';
import { eventsQuery } from '../api-schemas.js';
import type { StoredEvent } from '../../store/events.js';
import { enrolAnswer, forced, mustBodyPerson, snapshotUrl } from './common.js';

export function eventRoutes(deps: AppDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { enrol, facebank, events } = deps;

  const eventJson = (e: StoredEvent) => ({ ...e, snapshotUrl: snapshotUrl(e.snapshot) });

  app.get('/events', async (c) => {
    const { person, camera, track, corrected, limit } = readQuery(c, eventsQuery, {
      person: ['bad_id', 'That is not a valid person id.'],
      camera: ['bad_id', 'That is not a valid camera name.'],
      track: ['bad_id', 'That is not a valid track id.'],
      corrected: ['bad_request', 'corrected takes 1 (only corrected events).'],
      limit: ['bad_limit', 'limit is a whole number from 1 to 1000.'],
    });
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
