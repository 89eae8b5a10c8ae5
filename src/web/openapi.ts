/**
 * The admin API's OpenAPI 3.0 document, generated from the zod schemas the routes parse with and answer in
 * (api-schemas.ts): every operation with its parameters, body, success status, media type and shape, and the error
 * answers ({error, message}, codes from src/errors/codes.ts). Served at GET /api/openapi.json and shown as a page
 * by web/api.html.
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors/codes.js';
import * as s from './api-schemas.js';

type Auth = 'public' | 'signed-in';

/** A success answer: JSON of a schema, or a JPEG. */
type Success = z.ZodType | 'image/jpeg';

export interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI path, `{param}` for path parameters. */
  path: string;
  summary: string;
  auth?: Auth;
  query?: z.ZodObject;
  body?: z.ZodType;
  /** multipart/form-data upload of files (the photos). */
  files?: true;
  /** The success status and what it carries. */
  ok: [200 | 201, Success];
  /** Another success status: a repeat of a create answers 200 with the same shape (`already: true`). */
  repeat?: 200;
}

export const OPERATIONS: Operation[] = [
  {
    method: 'get',
    path: '/api/session-status',
    summary:
      'Whether set-up is needed and whether this browser is signed in (the CSRF token, the name rule, quality gate, match threshold and largest accepted photo).',
    auth: 'public',
    ok: [200, s.sessionStatus],
  },
  {
    method: 'post',
    path: '/api/setup',
    summary: 'First run only: claim the appliance with the one-time claim code and set the admin password; exactly one concurrent claim wins.',
    auth: 'public',
    body: s.setupBody,
    ok: [200, s.sessionStarted],
  },
  {
    method: 'post',
    path: '/api/login',
    summary: 'Sign in with the admin password; sets the session cookie. 5 attempts a minute per address.',
    auth: 'public',
    body: s.loginBody,
    ok: [200, s.sessionStarted],
  },
  { method: 'post', path: '/api/logout', summary: 'Sign out.', ok: [200, s.ok] },
  {
    method: 'post',
    path: '/api/password',
    summary: 'Change the admin password (browser session only); every session ends, a new one starts for this browser.',
    body: s.passwordBody,
    ok: [200, s.sessionStarted],
  },
  { method: 'post', path: '/api/sessions/end-all', summary: 'Sign out everywhere: end every browser session (admin).', ok: [200, s.endedAll] },
  {
    method: 'get',
    path: '/api/people',
    summary: 'People with sample counts and avatar, the sync state and the operating point in use.',
    ok: [200, s.peopleList],
  },
  {
    method: 'get',
    path: '/api/operating-point',
    summary:
      'The threshold the live matcher names people at now, with N, the target false-name rate, where it comes from and a sentence; capture, clustering and look-alike checks use the same.',
    ok: [200, s.operatingPointView],
  },
  {
    method: 'post',
    path: '/api/people',
    summary: 'Create a person. 409 duplicate_name (with personId and name of the holder) when the name is taken, also by a look-alike spelling.',
    body: s.nameBody,
    ok: [201, s.person],
  },
  { method: 'get', path: '/api/people/{id}', summary: 'One person.', ok: [200, s.person] },
  { method: 'patch', path: '/api/people/{id}', summary: 'Rename a person (the same name rule as creating; undoable).', body: s.nameBody, ok: [200, s.person] },
  { method: 'delete', path: '/api/people/{id}', summary: 'Delete a person and their samples.', ok: [200, s.ok] },
  { method: 'get', path: '/api/people/{id}/samples', summary: "A person's samples (quality, source, thumbnail URL).", ok: [200, s.sampleList] },
  {
    method: 'post',
    path: '/api/people/{id}/photos',
    summary:
      'Upload photos (several files); each is accepted or rejected with a reason (e.g. multiple_faces with the faces to pick from, looks_like_other with the match).',
    query: s.photosQuery,
    files: true,
    ok: [200, s.photosAnswer],
  },
  { method: 'post', path: '/api/people/{id}/capture', summary: 'Enrol a face picked from a camera capture.', body: s.captureBody, ok: [201, s.capturedSample] },
  {
    method: 'post',
    path: '/api/captures/enrol',
    summary: 'Enrol a captured face to an existing (personId) or new (name) person in one step: nothing is created when it fails.',
    body: s.captureEnrolBody,
    ok: [201, s.captureEnrolled],
  },
  {
    method: 'delete',
    path: '/api/samples/{id}',
    summary: 'Delete a sample; its crop is kept a day so the change can be undone.',
    ok: [200, s.sampleRemoved],
  },
  { method: 'get', path: '/api/samples/{id}/crop.jpg', summary: "A sample's aligned face crop.", ok: [200, 'image/jpeg'] },
  {
    method: 'get',
    path: '/api/cameras',
    summary:
      'Camera statuses; with camera management also every configured camera (settings, URL passwords masked) and where the config came from (config: the file, whether cameras can be saved to it, and why not).',
    ok: [200, s.cameraList],
  },
  {
    method: 'post',
    path: '/api/cameras',
    summary:
      'Add a camera: written to the config file (comments kept, previous copy in <file>.bak; URL credentials go to <dataDir>/camera-secrets.json) and started at once. 422 config_refused names the path and the reason; 409 config_not_writable without a writable config file.',
    body: s.cameraBody,
    ok: [201, s.savedCamera],
  },
  {
    method: 'post',
    path: '/api/cameras/test',
    summary: "Open a camera as the appliance would, saving nothing: one frame and its size and frame rate, or ffmpeg's error in a sentence.",
    body: s.cameraTestBody,
    ok: [200, s.cameraTest],
  },
  {
    method: 'post',
    path: '/api/cameras/{name}/test',
    summary: 'Test a change to a camera (fields left out keep their value; a masked password in the URL means the stored one).',
    body: s.cameraPatchBody,
    ok: [200, s.cameraTest],
  },
  {
    method: 'patch',
    path: '/api/cameras/{name}',
    summary:
      'Change a camera (fields left out keep their value; enabled: false disables it; a new name renames it; a masked password keeps the stored one). Only that camera restarts; the others keep their tracks.',
    body: s.cameraPatchBody,
    ok: [200, s.savedCamera],
  },
  { method: 'delete', path: '/api/cameras/{name}', summary: 'Remove a camera from the config file and stop it; the others keep running.', ok: [200, s.ok] },
  { method: 'get', path: '/api/cameras/{name}/frame.jpg', summary: 'The latest frame with face boxes and names drawn.', ok: [200, 'image/jpeg'] },
  {
    method: 'get',
    path: '/api/cameras/{name}/live',
    summary: 'The latest frame (a JPEG data URL) and the faces found on it, for the page to draw.',
    ok: [200, s.liveFrame],
  },
  {
    method: 'post',
    path: '/api/cameras/{name}/capture',
    summary: "Freeze the camera's latest frame: its faces, numbered, each with who it resembles, to pick one for enrolment.",
    ok: [200, s.capture],
  },
  {
    method: 'get',
    path: '/api/events',
    summary: "Recognition decisions, newest first (every new/update/end; a track's events share its id).",
    query: s.eventsQuery,
    ok: [200, s.eventList],
  },
  {
    method: 'post',
    path: '/api/events/{id}/reassign',
    summary:
      "Add the event's face as a sample of another person. Once per event: a repeat answers 200 with already=true; a different correction is 409 until undone; 422 snapshot_gone when the face picture is gone; 422 looks_like_other unless force.",
    body: s.reassignBody,
    ok: [201, s.corrected],
    repeat: 200,
  },
  {
    method: 'post',
    path: '/api/events/{id}/not-person',
    summary: 'Store the event\'s face as a "not this person" sample of the person it was matched to (once per event, as reassign).',
    body: s.notPersonBody,
    ok: [201, s.corrected],
    repeat: 200,
  },
  { method: 'get', path: '/api/snapshots/{file}', summary: 'A face snapshot; {file} is <id>.jpg.', ok: [200, 'image/jpeg'] },
  { method: 'get', path: '/api/unknowns', summary: 'Unknown faces of the retention window, grouped by likeness.', ok: [200, s.unknownClusters] },
  {
    method: 'post',
    path: '/api/unknowns/{id}/name',
    summary:
      'Enrol the faces of a group (all, or memberIds) as a new or existing person. Faces that look like someone else enrolled are left out and listed (leftOut) unless force; a repeat answers 200 with already=true.',
    body: s.nameClusterBody,
    ok: [201, s.clusterNamed],
    repeat: 200,
  },
  { method: 'post', path: '/api/unknowns/{id}/dismiss', summary: 'Forget a group of unknown faces (undoable).', ok: [200, s.dismissed] },
  {
    method: 'get',
    path: '/api/storage',
    summary:
      'Whether the appliance can keep what it writes. While the disk is full or failing, recognition and live MQTT events go on; history, unknown faces, snapshots and the offline queue are not kept until space returns.',
    ok: [200, s.storageState],
  },
  {
    method: 'get',
    path: '/api/changes',
    summary: "The last day's changes to the facebank (corrections, group naming, dismissals, photos, renames), newest last.",
    ok: [200, s.changeList],
  },
  { method: 'post', path: '/api/changes/{id}/undo', summary: 'Undo a change (409 cannot_undo when it is too old or already undone).', ok: [200, s.undone] },
  { method: 'get', path: '/api/tokens', summary: 'API tokens (never the secrets).', ok: [200, s.tokenList] },
  {
    method: 'post',
    path: '/api/tokens',
    summary: 'Create an API token (admin only); the secret is shown only in this answer.',
    body: s.createTokenBody,
    ok: [201, s.createdToken],
  },
  { method: 'delete', path: '/api/tokens/{id}', summary: 'Revoke an API token (admin only).', ok: [200, s.ok] },
  {
    method: 'get',
    path: '/api/openapi.json',
    summary: 'This document (shown as a readable page at /api.html).',
    ok: [200, z.object({ openapi: z.string(), paths: z.record(z.string(), z.unknown()) }).loose()],
  },
];

const ERROR_ANSWERS: [number, string][] = [
  [400, 'Bad input'],
  [401, 'Not signed in, or a bad or expired token'],
  [403, 'CSRF token or Origin missing or wrong, claim code wrong, or a read-only token'],
  [404, 'Not found'],
  [405, 'Method not allowed on this path (the Allow header lists the ones that are)'],
  [409, 'Conflict'],
  [413, 'Request too large'],
  [415, 'Wrong content type'],
  [421, "The Host header is not one of this appliance's names"],
  [422, 'Cannot be processed'],
  [429, 'Too many sign-in attempts, or busy with other photos (see Retry-After)'],
  [500, 'Something went wrong on the appliance'],
];

/** JSON Schema (OpenAPI 3.0 dialect) of a zod schema; `io` picks what a client sends (input) or receives (output). */
const jsonSchema = (schema: z.ZodType, io: 'input' | 'output') => z.toJSONSchema(schema, { target: 'openapi-3.0', io, unrepresentable: 'any' });

function parameters(op: Operation) {
  const params: object[] = [...op.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
  if (op.query) {
    const q = jsonSchema(op.query, 'input') as { properties?: Record<string, { description?: string }>; required?: string[] };
    for (const [name, schema] of Object.entries(q.properties ?? {}))
      params.push({
        name,
        in: 'query',
        required: q.required?.includes(name) ?? false,
        schema,
        ...(schema.description ? { description: schema.description } : {}),
      });
  }
  return params;
}

function successContent([, what]: Operation['ok']) {
  if (what === 'image/jpeg') return { 'image/jpeg': { schema: { type: 'string', format: 'binary' } } };
  return { 'application/json': { schema: jsonSchema(what, 'output') } };
}

function operation(op: Operation) {
  const out: Record<string, unknown> = {
    operationId: `${op.method}${op.path
      .replace(/^\/api/, '')
      .replace(/[{}.]/g, '')
      .replace(/[/-](\w)/g, (_, ch: string) => ch.toUpperCase())}`,
    summary: op.summary,
    parameters: parameters(op),
    responses: {
      [String(op.ok[0])]: { description: op.ok[0] === 201 ? 'Created' : 'OK', content: successContent(op.ok) },
      ...(op.repeat ? { [String(op.repeat)]: { description: 'Done before: nothing changed (already: true)', content: successContent(op.ok) } } : {}),
      ...Object.fromEntries(
        ERROR_ANSWERS.map(([status, description]) => [
          String(status),
          { description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
        ]),
      ),
    },
  };
  if (op.auth === 'public') out.security = [];
  if (op.body) out.requestBody = { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } };
  if (op.files)
    out.requestBody = {
      required: true,
      content: {
        'multipart/form-data': { schema: { type: 'object', properties: { photos: { type: 'array', items: { type: 'string', format: 'binary' } } } } },
      },
    };
  return out;
}

function buildPaths() {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of OPERATIONS) (paths[op.path] ??= {})[op.method] = operation(op);
  return paths;
}

export const openapi = {
  openapi: '3.0.3',
  info: {
    title: 'facegate admin API',
    version: '1',
    description:
      'Browser sessions use the fg_session cookie and must send X-CSRF-Token (from login or session-status) on POST/PATCH/DELETE. Automation uses Authorization: Bearer <token> (a read token may only GET) and needs no CSRF header. Errors are {error, message}; a method a path does not take answers 405 with Allow.',
  },
  components: {
    securitySchemes: { session: { type: 'apiKey', in: 'cookie', name: 'fg_session' }, bearer: { type: 'http', scheme: 'bearer' } },
    schemas: { Error: { ...jsonSchema(s.errorBody, 'output'), description: `codes: ${Object.keys(ERROR_CODES).length}, see src/errors/codes.ts` } },
  },
  security: [{ session: [] }, { bearer: [] }],
  paths: buildPaths(),
};

/** [METHOD, /api/path with {params}] of every documented operation. */
export const ROUTE_LIST = OPERATIONS.map((op) => [op.method.toUpperCase(), op.path] as const);
