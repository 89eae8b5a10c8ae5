/** Look-ups the camera, event and unknown-face routes share: a person by id, a snapshot's URL, the enrolment answers. */
import type { Context } from 'hono';
import type { AppDeps } from '../ports.js';
import { fail, validId } from '../http.js';
import { EnrolRefusal } from '../../enrol/service.js';
import { statusOf } from '../../errors/codes.js';

export const snapshotUrl = (id: string | null) => (id ? `/api/snapshots/${id}.jpg` : null);

/** The person with this id; 400 for an id that breaks the id rule, 404 when there is none. */
export async function mustPerson(facebank: AppDeps['facebank'], id: string | undefined) {
  const p = await facebank.person(validId(id, 'person'));
  if (!p) fail(404, 'not_found', 'There is no such person.');
  return p!;
}

/** The person named by a request body's personId; 400 without one. */
export function mustBodyPerson(facebank: AppDeps['facebank'], id: unknown) {
  if (typeof id !== 'string') fail(400, 'bad_request', 'Give personId.');
  return mustPerson(facebank, id as string);
}

/** `force: true` in a body or `?force=1`: the user confirmed a face that looks like someone else. */
export const forced = (c: Context, body?: Record<string, unknown>) => body?.force === true || c.req.query('force') === '1';

/** Runs an enrolment action; a refusal with details (who a face looks like, what was done) is answered with them. */
export async function enrolAnswer<T>(c: Context, action: () => Promise<T>, ok: (r: T) => Response): Promise<Response> {
  try {
    return ok(await action());
  } catch (e) {
    if (e instanceof EnrolRefusal) return c.json({ error: e.code, message: e.message, ...e.detail }, statusOf(e.code));
    throw e;
  }
}
