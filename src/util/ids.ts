/**
 * The one id rule: every id facegate hands out (people, samples, events, tracks, snapshots, clusters) is 1 to 80
 * letters, digits, "_" and "-". Anything else (dots, slashes, encodings) never reaches a file path or a topic.
 */
export const ID_PATTERN = '[A-Za-z0-9_-]{1,80}';
export const ID_RE = new RegExp(`^${ID_PATTERN}$`);

export const isId = (v: unknown): v is string => typeof v === 'string' && ID_RE.test(v);

/** A camera name (config `cameras[].name`): it is a topic level and a URL segment. */
export const CAMERA_NAME_RE = /^[a-z0-9][a-z0-9_-]{0,31}$/;
