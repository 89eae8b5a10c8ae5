/**
 * The admin API's request and response shapes as zod schemas: the routes parse their input with the request
 * schemas (http.ts readJson/readQuery) and the OpenAPI document (openapi.ts) is generated from both, so the
 * document cannot say other than what the code does. Response schemas describe what the routes answer; the web
 * tests check every answer they receive against the document (test/web/contract.ts).
 */
import { z } from 'zod';
import { ERROR_CODES } from '../errors/codes.js';
import { SAMPLE_SOURCES } from '../store/types.js';
import { CHANGE_KINDS } from '../enrol/changes.js';
import { CAMERA_NAME_RE, ID_RE } from '../util/ids.js';

const isoTime = z.string().describe('ISO 8601 date-time');
const box = z.array(z.number()).length(4).describe('[x1, y1, x2, y2] in pixels of the image');
const url = z.string().describe('a URL path on this appliance');
const ok = z.object({ ok: z.literal(true) });

const resemblance = z.object({ personId: z.string(), name: z.string(), similarity: z.number() });
const faceResult = z.object({
  index: z.int(),
  status: z.enum(['added', 'duplicate', 'looks_like_other', 'snapshot_gone']),
  sampleId: z.string().optional(),
  message: z.string().optional(),
  match: resemblance.optional().describe('for looks_like_other: who the face is more like, and how alike'),
});

/** Every error: {error, message}, and for some codes what the page needs to offer the next step. */
export const errorBody = z.object({
  error: z.enum(Object.keys(ERROR_CODES) as [string, ...string[]]),
  message: z.string(),
  personId: z.string().optional().describe('duplicate_name: the person who has the name'),
  name: z.string().optional().describe('duplicate_name: their name'),
  match: resemblance.optional().describe('looks_like_other: who the face is more like'),
  leftOut: z.array(faceResult).optional().describe('looks_like_other on a group: the faces left out and why'),
  correction: z
    .object({ kind: z.enum(['reassigned', 'not-person']), personId: z.string(), time: z.string() })
    .optional()
    .describe('conflict: how the event was corrected'),
});

// --- shared pieces

export const quality = z.object({ size: z.number(), score: z.number(), blur: z.number(), yaw: z.number(), pitch: z.number(), roll: z.number() });
export const personRef = z.object({ id: z.string(), name: z.string() });
export const person = z.object({ id: z.string(), name: z.string(), created: isoTime, notes: z.string() });
export const operatingPoint = z.object({
  threshold: z.number().describe('cosine similarity a face needs to be named'),
  people: z.int().describe('people enrolled (the N of 1:N)'),
  targetFpir: z.number().nullable().describe("share of strangers' faces allowed a name (null: match.threshold is set)"),
  source: z.enum(['config', 'facebank-size', 'one-to-one']),
  trackThresholds: z.array(z.number()).optional().describe("what the similarity of a track's mean face over its 1, 2, 3… distinct faces must reach"),
  extrapolated: z.boolean().optional().describe('more people are enrolled than the rule was measured with'),
  largestMeasured: z.int().nullable().optional().describe('the largest facebank the rule was measured at'),
  rule: z.string().nullable().optional().describe('the detector + embedder pair (or embedder) whose measured rule applies'),
});
/** The operating point with the sentence the page shows for it. */
export const operatingPointView = operatingPoint.extend({ sentence: z.string().describe('what the threshold means, for a person') });
export const change = z.object({
  id: z.string(),
  time: isoTime,
  kind: z.enum(CHANGE_KINDS),
  summary: z.string().describe('what was done, in a sentence'),
  personId: z.string().nullable(),
  undone: isoTime.nullable(),
  undoable: z.boolean(),
  eventId: z.string().nullable().describe('the event a correction marked'),
});
export const changeList = z.object({ changes: z.array(change) });
export const undone = z.object({ ok: z.literal(true), change });
export const sampleRemoved = z.object({ ok: z.literal(true), change: change.nullable() });
export const syncStats = z.object({ lastSync: isoTime.nullable(), pending: z.int(), connected: z.boolean(), applianceId: z.string() }).loose();

// --- session

export const sessionStatus = z.object({
  setupRequired: z.boolean(),
  authenticated: z.boolean(),
  csrfToken: z.string().nullable(),
  minPasswordLength: z.int(),
  passwordFixed: z.boolean(),
  nameRule: z.object({}).loose(),
  quality: z.object({ minSize: z.number(), minBlur: z.number() }),
  threshold: z.number(),
  maxUploadBytes: z.int().describe('the largest photo file accepted'),
});
export const setupBody = z.object({ claimCode: z.string().min(1).max(64), password: z.string().max(1024) });
export const loginBody = z.object({ password: z.string().max(1024) });
export const passwordBody = z.object({ current: z.string().max(1024), password: z.string().max(1024) });
export const sessionStarted = z.object({ ok: z.literal(true), csrfToken: z.string(), expires: isoTime });
export const endedAll = z.object({ ok: z.literal(true), ended: z.int() });

// --- tokens

export const tokenScope = z.enum(['read', 'admin']);
export const tokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  created: isoTime,
  lastUsed: isoTime.nullable(),
  scope: tokenScope,
  expires: isoTime.nullable(),
  expired: z.boolean(),
});
export const tokenList = z.object({ tokens: z.array(tokenInfo) });
export const createTokenBody = z.object({
  name: z
    .string()
    .trim()
    .min(1)
    .max(64)
    .refine((s) => !/[\p{Cc}\p{Cf}]/u.test(s), 'visible characters only'),
  scope: tokenScope.default('read'),
  days: z.int().min(1).max(3650).nullable().default(null).describe('days until it expires; null: never'),
});
export const createdToken = tokenInfo.extend({ token: z.string().describe('the secret: shown only in this answer') });

// --- people and samples

export const nameBody = z.object({ name: z.string() });
export const personRow = person.extend({
  samples: z.int(),
  avatar: z.string().nullable(),
  avatarUrl: url.nullable(),
  origin: z.string().optional().describe('the appliance the person was enrolled on (facebank sync)'),
  strength: z.object({
    level: z.enum(['none', 'weak', 'fair', 'strong']).describe("how well the photos cover the person's looks"),
    hint: z.string().nullable().describe('the photo that would help most'),
  }),
});
export const peopleList = z.object({ people: z.array(personRow), sync: syncStats.nullable(), operatingPoint: operatingPointView });
export const sample = z.object({
  id: z.string(),
  personId: z.string(),
  modelId: z.string(),
  quality,
  source: z.enum(SAMPLE_SOURCES),
  created: isoTime,
  negative: z.boolean(),
  url,
});
export const sampleList = z.object({ samples: z.array(sample) });
export const photosQuery = z.object({
  face: z.coerce.number().int().min(0).max(999).optional().describe('which face of a group photo (the index from a multiple_faces answer)'),
  force: z.coerce.number().int().min(0).max(1).optional().describe('1: add a face that looks like someone else anyway'),
});
const candidate = z.object({ index: z.int(), box, ok: z.boolean(), reason: z.string().nullable(), quality, thumbnail: z.string() });
export const photoResult = z.union([
  z.object({ file: z.string(), status: z.literal('accepted'), sampleId: z.string(), thumbnail: url, quality }),
  z.object({ file: z.string(), status: z.literal('rejected'), reason: z.string(), message: z.string() }).extend({
    bytes: z.int().optional(),
    faces: z.array(candidate).optional(),
    match: z.object({ personId: z.string(), name: z.string(), similarity: z.number() }).optional(),
    faceIndex: z.int().nullable().optional(),
  }),
]);
export const photosAnswer = z.object({ accepted: z.int(), rejected: z.int(), results: z.array(photoResult), change: change.nullable() });
export const captureBody = z.object({
  camera: z.string().optional(),
  captureId: z.string(),
  face: z.int().min(0),
  force: z.boolean().optional().describe('add a face that looks like someone else anyway'),
});
export const captureEnrolBody = captureBody.extend({ personId: z.string().optional(), name: z.string().optional() });
export const capturedSample = z.object({ sampleId: z.string(), thumbnail: url, quality, change: change.nullable() });
export const captureEnrolled = z.object({
  personId: z.string(),
  name: z.string(),
  created: z.boolean(),
  sampleId: z.string(),
  thumbnail: url,
  change: change.nullable(),
});

// --- cameras

export const cameraStatus = z.object({
  camera: z.string(),
  state: z.enum(['starting', 'online', 'offline']),
  fps: z.number(),
  lastFrameTime: isoTime.nullable(),
  restarts: z.int(),
  framesDropped: z.int(),
  lastError: z.string().nullable(),
});
/** A configured camera as shown: the URL's password masked (`user:********`). */
export const cameraSettings = z.object({
  name: z.string(),
  url: z.string(),
  enabled: z.boolean(),
  loop: z.boolean(),
  fps: z.number().nullable().describe('null: pipeline.fps'),
  width: z.int().nullable().describe('null: pipeline.frameWidth'),
  inputOptions: z.array(z.string()),
});
export const configSource = z.object({
  file: z.string().nullable().describe('the config file; null: the built-in defaults'),
  writable: z.boolean(),
  reason: z.string().nullable().describe('why cameras cannot be saved, in one sentence'),
});
export const cameraList = z.object({
  cameras: z.array(cameraStatus).describe('the running cameras'),
  settings: z.array(cameraSettings).optional().describe('every configured camera, disabled ones too'),
  config: configSource.optional(),
});
/** A camera as the page sends it; the config schema (src/config/schema.ts) checks it, and a refusal names cameras[i].<field>. */
export const cameraBody = z.object({
  name: z.string().describe('lower-case letters, digits, _ and -, at most 32 characters'),
  url: z.string().describe('rtsp://, http(s)://, a video file or /dev/videoN; user:password@ in it goes to the secrets file'),
  enabled: z.boolean().optional(),
  loop: z.boolean().optional(),
  fps: z.number().max(30).nullable().optional().describe('frames per second analysed, more than 0; null: pipeline.fps'),
  width: z.int().min(64).max(3840).nullable().optional().describe('null: pipeline.frameWidth'),
  inputOptions: z.array(z.string()).optional(),
});
export const cameraPatchBody = cameraBody.partial();
export const cameraTestBody = cameraBody.partial({ name: true });
export const savedCamera = z.object({ camera: cameraSettings });
export const cameraTest = z.union([
  z.object({
    ok: z.literal(true),
    width: z.int().describe('the frame as analysed'),
    height: z.int(),
    fps: z.number().describe('frames per second analysed'),
    source: z.object({ width: z.int().nullable(), height: z.int().nullable(), fps: z.number().nullable(), codec: z.string().nullable() }),
    image: z.string().describe('data:image/jpeg;base64,…'),
  }),
  z.object({ ok: z.literal(false), error: z.string().describe("ffmpeg's error in one sentence") }),
]);
const overlayFace = z.object({ box, label: z.string().nullable(), similarity: z.number().nullable(), kind: z.enum(['known', 'unknown', 'gated']) });
export const liveFrame = z.object({
  camera: z.string(),
  width: z.int(),
  height: z.int(),
  image: z.string().describe('data:image/jpeg;base64,…'),
  faces: z.array(overlayFace),
});
export const capture = z.object({
  captureId: z.string(),
  camera: z.string(),
  width: z.int(),
  height: z.int(),
  image: z.string(),
  faces: z.array(candidate.extend({ match: z.object({ personId: z.string(), name: z.string(), similarity: z.number() }).nullable() })),
});

// --- events

export const eventsQuery = z.object({
  person: z
    .string()
    .refine((s) => s === 'unknown' || ID_RE.test(s), 'a person id, or "unknown"')
    .optional()
    .describe('a person id, or "unknown"'),
  camera: z.string().regex(CAMERA_NAME_RE).optional(),
  track: z.string().regex(ID_RE).optional().describe("one track's events"),
  corrected: z.enum(['1', 'true']).optional().describe('only corrected events'),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export const storedEvent = z.object({
  type: z.enum(['new', 'update', 'end']),
  id: z.string(),
  camera: z.string(),
  track: z.string(),
  person: personRef.nullable(),
  similarity: z.number().nullable(),
  confidence: z.number(),
  box,
  quality,
  frameTime: isoTime,
  publishTime: isoTime,
  snapshot: z.string().nullable(),
  duration: z.number().optional(),
  correction: z.object({ kind: z.enum(['reassigned', 'not-person']), personId: z.string(), time: isoTime }).optional(),
  snapshotUrl: url.nullable(),
});
export const eventList = z.object({ events: z.array(storedEvent), operatingPoint: operatingPointView });
export const reassignBody = z.object({ personId: z.string(), force: z.boolean().optional() });
export const notPersonBody = z.object({ force: z.boolean().optional() });
export const corrected = z.object({
  ok: z.literal(true),
  already: z.boolean().describe('true: the event was corrected this way before and nothing was added'),
  correction: z.object({ kind: z.enum(['reassigned', 'not-person']), personId: z.string() }),
  sampleId: z.string().nullable(),
  personId: z.string(),
  change: change.nullable(),
});

// --- unknown faces

export const unknownClusters = z.object({
  threshold: z.number(),
  clusters: z.array(
    z.object({
      id: z.string(),
      size: z.int(),
      first: isoTime,
      last: isoTime,
      cameras: z.array(z.string()),
      members: z.array(z.object({ id: z.string(), camera: z.string(), time: isoTime, snapshotUrl: url.nullable() })),
    }),
  ),
});
export const nameClusterBody = z.object({
  name: z.string().optional(),
  personId: z.string().optional(),
  memberIds: z.array(z.string()).min(1).optional().describe('the faces of the group to enrol; default all'),
  force: z.boolean().optional().describe('add faces that look like someone else anyway'),
});
export const clusterNamed = z.object({
  ok: z.literal(true),
  already: z.boolean(),
  personId: z.string().nullable(),
  created: z.boolean(),
  sampleIds: z.array(z.string()),
  leftOut: z.array(faceResult).describe('faces left in the unknown list (they look like someone else, or their picture is gone)'),
  change: change.nullable(),
});
export const dismissed = z.object({ ok: z.literal(true), dismissed: z.int(), change: change.nullable() });

// --- storage

export const storageState = z.union([
  z.object({ ok: z.literal(true) }),
  z.object({
    ok: z.literal(false),
    code: z.string().describe('the error the disk gave (ENOSPC, EDQUOT, EIO, …)'),
    since: isoTime,
    reason: z.string().describe('what is not kept while this lasts, in a sentence'),
  }),
]);

export { ok };
