/**
 * Every error code facegate gives, in one table: its HTTP status and, where the admin page shows one, a short
 * reason in words (the page loads them from /errors.js, never a hand copy). Codes are lower_snake_case and part of
 * the public contract (API JSON `error`, upload `reason`, `--json` output): rename one only with a README note.
 */

/** The statuses an error may answer with. */
export type ErrorStatus = 400 | 401 | 403 | 404 | 405 | 409 | 413 | 415 | 421 | 422 | 429 | 500 | 507;

interface Entry {
  readonly status: ErrorStatus;
  /** A second status some route answers with (documented where it does). */
  readonly also?: ErrorStatus;
  /** Short words for the page (upload results). */
  readonly reason?: string;
}

export const ERROR_CODES = {
  // Requests and sessions (admin API).
  bad_request: { status: 400 },
  bad_json: { status: 400 },
  bad_multipart: { status: 400 },
  bad_id: { status: 400 },
  bad_limit: { status: 400 },
  bad_camera: { status: 400 },
  bad_members: { status: 400 },
  bad_scope: { status: 400 },
  bad_expiry: { status: 400 },
  bad_name: { status: 400 },
  bad_host: { status: 421 },
  bad_origin: { status: 403 },
  csrf: { status: 403 },
  unauthorized: { status: 401 },
  read_only: { status: 403 },
  admin_required: { status: 403 },
  session_required: { status: 403 },
  claim_code_required: { status: 403 },
  bad_claim_code: { status: 403 },
  bad_password: { status: 401 },
  weak_password: { status: 422 },
  /** 401 from the sign-in gate before any password exists; 409 from sign-in itself. */
  setup_required: { status: 401, also: 409 },
  password_set: { status: 409 },
  password_fixed: { status: 409 },
  rate_limited: { status: 429 },
  busy: { status: 429 },
  unsupported_media_type: { status: 415 },
  no_route: { status: 404 },
  method_not_allowed: { status: 405 },
  not_found: { status: 404 },
  conflict: { status: 409 },
  internal: { status: 500 },

  // People, photos and uploads (the page names the reasons of refused photos).
  no_files: { status: 400 },
  too_many_files: { status: 400 },
  not_image: { status: 400, reason: 'Not a photo' },
  too_large: { status: 413, reason: 'File too large' },
  too_many_pixels: { status: 400, reason: 'Too many pixels' },
  no_face: { status: 400, reason: 'No face found' },
  too_small: { status: 422, reason: 'Face too small' },
  too_blurry: { status: 422, reason: 'Too blurry' },
  bad_pose: { status: 422, reason: 'Head turned away' },
  multiple_faces: { status: 422, reason: 'Several faces' },
  bad_face_index: { status: 400, reason: 'No such face' },
  duplicate: { status: 409, reason: 'Already added' },
  duplicate_name: { status: 409 },
  looks_like_other: { status: 422, reason: 'Looks like someone else' },
  face_small: { status: 422 },
  face_score: { status: 422 },
  face_blur: { status: 422 },
  face_pose: { status: 422 },
  already_added: { status: 409 },
  no_person: { status: 409 },
  members_gone: { status: 409 },
  no_embedding: { status: 422 },
  /** The face picture an action needs (an event's or unknown face's snapshot) is gone. */
  snapshot_gone: { status: 422 },
  /** A change in the change log that cannot be undone any more (or was undone already). */
  cannot_undo: { status: 409 },
  no_frame: { status: 404 },
  capture_expired: { status: 404 },
  enrol_failed: { status: 400 },

  // Images and files.
  corrupt_image: { status: 400 },
  truncated: { status: 400 },
  empty: { status: 400 },
  is_directory: { status: 400 },
  permission: { status: 400 },
  bad_image: { status: 400 },
  bad_crop: { status: 400 },
  bad_box: { status: 400 },
  bad_buffer: { status: 400 },
  bad_landmarks: { status: 400 },
  bad_size: { status: 400 },
  bad_transform: { status: 400 },
  bad_region: { status: 400 },
  dimension: { status: 400 },
  arena_closed: { status: 400 },
  wasm_unavailable: { status: 400 },

  // Stores, data directory, backup, sync.
  invalid: { status: 400 },
  data_dir: { status: 400 },
  lock: { status: 400 },
  locked: { status: 400 },
  store_corrupt: { status: 400 },
  /** The disk is full (or failing): what had to be kept could not be written. */
  storage_full: { status: 507 },
  facebank_closed: { status: 400 },
  facebank_corrupt: { status: 400 },
  facebank_read_only: { status: 400 },
  facebank_version: { status: 400 },
  facebank_write: { status: 400 },
  reembed: { status: 400 },
  backup: { status: 400 },
  backup_invalid: { status: 400 },
  sync_embed: { status: 400 },
  sync_key: { status: 400 },
  sync_state: { status: 400 },

  // Models and the engine.
  model_missing: { status: 400 },
  model_corrupt: { status: 400 },
  model_mismatch: { status: 400 },
  model_unsupported: { status: 400 },
  model_source_missing: { status: 400 },
  bad_model: { status: 400 },
  bad_output: { status: 400 },
  bad_option: { status: 400 },
  engines_missing: { status: 400 },
  engines_corrupt: { status: 400 },
  engines_write: { status: 400 },
  engine_closed: { status: 400 },
  engine_worker: { status: 400 },
  engine_error: { status: 400 },
  build_missing: { status: 400 },
  aborted: { status: 400 },

  // Configuration, command line, services.
  unit_missing: { status: 500 },
  web_listen: { status: 500 },
  config: { status: 400 },
  bad_config: { status: 400 },
  /** A camera change the config schema refuses (the message names the path and the reason). */
  config_refused: { status: 422 },
  /** No writable config file: the appliance runs on the defaults, or may not rewrite its file. */
  config_not_writable: { status: 409 },
  usage: { status: 400 },
  source: { status: 400 },
  bad_certificate: { status: 400 },
  bad_pairs: { status: 400 },
  bad_labels: { status: 400 },
  ffmpeg_failed: { status: 400 },
  ffmpeg_not_found: { status: 400 },
  ffmpeg_start: { status: 400 },
  mqtt_embedded_listen: { status: 400 },
  mqtt_no_url: { status: 400 },
  mqtt_tls_file: { status: 400 },
  mqtt_queue: { status: 400 },
  socket_path: { status: 400 },
  appliance: { status: 400 },
  appliance_unreachable: { status: 400 },

  // Benchmarks.
  bench_baseline_failed: { status: 400 },
  bench_baseline_missing: { status: 400 },
  bench_data_missing: { status: 400 },
  bench_image_unreadable: { status: 400 },
  bench_no_frames: { status: 400 },
  bench_video_unreadable: { status: 400 },
} as const satisfies Record<string, Entry>;

export type ErrorCode = keyof typeof ERROR_CODES;

/** The statuses `code` may answer with: its own, and its `also` where it has one. */
export type StatusOf<C extends ErrorCode> = (typeof ERROR_CODES)[C] extends { also: infer A }
  ? (typeof ERROR_CODES)[C]['status'] | A
  : (typeof ERROR_CODES)[C]['status'];

const CODES: ReadonlySet<string> = new Set(Object.keys(ERROR_CODES));

export const isErrorCode = (v: unknown): v is ErrorCode => typeof v === 'string' && CODES.has(v);

/** The HTTP status of a code. */
export const statusOf = (code: ErrorCode): ErrorStatus => ERROR_CODES[code].status;

/** code → words, for the codes the page names (upload reasons). */
export function errorReasons(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [code, e] of Object.entries(ERROR_CODES) as [ErrorCode, Entry][]) if (e.reason) out[code] = e.reason;
  return out;
}
