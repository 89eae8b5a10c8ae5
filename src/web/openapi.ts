/** A hand-written OpenAPI 3 description of the admin API, served at GET /api/openapi.json; error codes come from src/errors/codes.ts. */
import { ERROR_CODES } from '../errors/codes.js';

type Op = [method: string, path: string, summary: string, extra?: { body?: string; public?: boolean; query?: string[] }];

const ROUTES: Op[] = [
  [
    'get',
    '/api/session-status',
    'Whether setup is needed and whether this browser is signed in (returns the CSRF token, the name rule, quality gate and match threshold).',
    { public: true },
  ],
  [
    'post',
    '/api/setup',
    'First run only: claim the appliance with the one-time claim code from its log and set the admin password (>= 10 characters); exactly one concurrent claim wins.',
    { body: 'claimCode, password', public: true },
  ],
  [
    'post',
    '/api/login',
    'Sign in with the admin password; sets the session cookie and returns csrfToken. 5 attempts a minute per address.',
    { body: 'password', public: true },
  ],
  ['post', '/api/logout', 'Sign out.'],
  [
    'post',
    '/api/password',
    'Change the admin password (browser session only); every session ends, a new one starts for this browser.',
    { body: 'current, password' },
  ],
  ['post', '/api/sessions/end-all', 'Sign out everywhere: end every browser session (admin).'],
  [
    'get',
    '/api/people',
    'People with sample counts and avatar sample id, and operatingPoint: the threshold the live matcher names people at now (with people N, targetFpir, source and a sentence).',
  ],
  [
    'get',
    '/api/operating-point',
    'The current operating point: {threshold, people, targetFpir, source, sentence}; the one the live matcher, clustering, capture and look-alike checks use.',
  ],
  [
    'post',
    '/api/people',
    'Create a person. 409 duplicate_name (with personId and name of the holder) when the name is taken, also by a look-alike spelling (TR39 confusables).',
    { body: 'name' },
  ],
  ['get', '/api/people/{id}', 'One person.'],
  ['patch', '/api/people/{id}', 'Rename a person (same name rule as creating; undoable from /api/changes).', { body: 'name' }],
  ['delete', '/api/people/{id}', 'Delete a person and their samples.'],
  ['get', '/api/people/{id}/samples', "A person's samples (quality, source, thumbnail url)."],
  [
    'post',
    '/api/people/{id}/photos',
    'Upload photos (multipart, several files); each file is accepted or rejected with a reason (duplicate, looks_like_other with the match at the live operating point). ?face=<index> picks a face in a group photo; ?force=1 adds a look-alike anyway. The answer has the change (for Undo).',
    { query: ['face', 'force'] },
  ],
  [
    'post',
    '/api/people/{id}/capture',
    'Enrol a face picked from a camera capture: 409 duplicate, 422 looks_like_other (with match) unless force is true.',
    { body: 'camera, captureId, face, force' },
  ],
  [
    'post',
    '/api/captures/enrol',
    'Enrol a captured face to an existing (personId) or new (name) person in one step: nothing is created when it fails (422 looks_like_other unless force is true; 409 duplicate_name for a taken name).',
    { body: 'camera, captureId, face, personId | name, force' },
  ],
  ['delete', '/api/samples/{id}', 'Delete a sample; its crop is kept so the change can be undone for a day (the answer has the change).'],
  ['get', '/api/samples/{id}/crop.jpg', "A sample's face crop (JPEG)."],
  ['get', '/api/cameras', 'Camera statuses.'],
  ['get', '/api/cameras/{name}/frame.jpg', 'The latest frame with face boxes and names drawn (JPEG).'],
  [
    'get',
    '/api/cameras/{name}/live',
    'The latest frame (plain JPEG data URL) and its faces (box, label, similarity, kind known | unknown | gated) for the page to draw.',
  ],
  ['post', '/api/cameras/{name}/capture', "Faces in the camera's latest frame (with the frame itself and who each face resembles), to pick one for enrolment."],
  [
    'get',
    '/api/events',
    "Recognition decisions, newest first (every new/update/end; a track's events share its id), and operatingPoint (the threshold in use now). person=<id> or person=unknown; track=<id>; corrected=1 for corrected events only; limit 1..1000 (default 100).",
    { query: ['person', 'camera', 'track', 'corrected', 'limit'] },
  ],
  [
    'post',
    '/api/events/{id}/reassign',
    "Add the event's face as a sample of another person. Once per event: a repeat answers 200 with already=true and adds nothing; a different correction is 409 until undone; 422 snapshot_gone when the face picture is gone; 422 looks_like_other (with match) unless force is true.",
    { body: 'personId, force' },
  ],
  ['post', '/api/events/{id}/not-person', "Store the event's face as a negative sample of the person it was matched to (once per event, as for reassign)."],
  ['get', '/api/snapshots/{id}.jpg', 'A face snapshot (JPEG).'],
  ['get', '/api/unknowns', 'Unknown faces of the retention window, clustered at the live operating point (threshold).'],
  [
    'post',
    '/api/unknowns/{id}/name',
    'Enrol the faces of a cluster (all, or memberIds) as a new or existing person, face by face: faces that look like someone else enrolled are left out and listed (leftOut, with match); 422 looks_like_other when none is left (force: true adds them anyway); 409 duplicate_name for a taken name (send personId to add to that person); a group named before answers 200 with already=true.',
    { body: 'name | personId, memberIds, force' },
  ],
  ['post', '/api/unknowns/{id}/dismiss', 'Forget a cluster of unknown faces (undoable; the answer has the change).'],
  ['get', '/api/changes', 'Recent facebank changes of the last day, newest first: {id, time, kind, summary, personId, eventId, undone, undoable}.'],
  [
    'post',
    '/api/changes/{id}/undo',
    'Undo a change: samples it added are removed (and a person it created), a removed photo comes back, a corrected event is unmarked, unknown faces come back. 409 cannot_undo when done already.',
  ],
  ['get', '/api/tokens', 'API tokens (never the secrets).'],
  [
    'post',
    '/api/tokens',
    'Create an API token (admin only); scope read (GET only, default) or admin; days 1..3650 or null (never expires). The token is shown only in this answer.',
    { body: 'name, scope, days' },
  ],
  ['delete', '/api/tokens/{id}', 'Revoke an API token.'],
  ['get', '/api/openapi.json', 'This document.'],
];

const errorRef = { $ref: '#/components/schemas/Error' };
const errors = Object.fromEntries(
  (
    [
      ['400', 'Bad input'],
      ['401', 'Not signed in / bad token'],
      ['403', 'CSRF token or Origin missing or wrong, claim code wrong, or a read-only token'],
      ['421', "The Host header is not one of this appliance's names"],
      ['404', 'Not found'],
      ['409', 'Conflict'],
      ['413', 'Request too large'],
      ['415', 'Wrong content type'],
      ['422', 'Cannot be processed'],
      ['429', 'Too many sign-in attempts, or busy with other photos (see Retry-After)'],
    ] satisfies [string, string][]
  ).map(([code, description]) => [code, { description, content: { 'application/json': { schema: errorRef } } }]),
);

function buildPaths() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [method, p, summary, extra = {}] of ROUTES) {
    const params = [...p.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    for (const q of extra.query ?? []) params.push({ name: q, in: 'query', required: false, schema: { type: 'string' } });
    const op: Record<string, unknown> = { summary, parameters: params, responses: { '200': { description: 'OK' }, ...errors } };
    if (extra.public) op.security = [];
    if (extra.body) {
      const props = Object.fromEntries(
        extra.body
          .split(/[,|]/)
          .map((k) => [
            k.trim(),
            { type: k.trim() === 'face' || k.trim() === 'days' ? 'integer' : k.trim() === 'memberIds' ? 'array' : k.trim() === 'force' ? 'boolean' : 'string' },
          ]),
      );
      op.requestBody = { content: { 'application/json': { schema: { type: 'object', properties: props } } } };
    }
    if (p.endsWith('/photos'))
      op.requestBody = {
        content: {
          'multipart/form-data': { schema: { type: 'object', properties: { photos: { type: 'array', items: { type: 'string', format: 'binary' } } } } },
        },
      };
    (paths[p] ??= {})[method] = op;
  }
  return paths;
}

export const openapi = {
  openapi: '3.0.3',
  info: {
    title: 'facegate admin API',
    version: '1',
    description:
      'Browser sessions use the fg_session cookie and must send X-CSRF-Token (from login or session-status) on POST/PATCH/DELETE. Automation uses Authorization: Bearer <token> and needs no CSRF header. Errors are {error, message}.',
  },
  components: {
    securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'fg_session' }, bearer: { type: 'http', scheme: 'bearer' } },
    schemas: {
      Error: {
        type: 'object',
        required: ['error', 'message'],
        properties: { error: { type: 'string', enum: Object.keys(ERROR_CODES) }, message: { type: 'string' } },
      },
    },
  },
  security: [{ session: [] }, { bearer: [] }],
  paths: buildPaths(),
};

export const ROUTE_LIST = ROUTES.map(([m, p]) => [m.toUpperCase(), p] as const);
