/**
 * A track's key faces: the different looks of its face it has seen, the evidence it is named from. Frames of a
 * video are nearly the same face many times over; counting them as separate evidence would overstate it, so a
 * face joins the keys only when it differs from every key (cosine below KEY_SAME), and a better face of a look
 * already kept replaces it. At most MAX_KEYS are kept (the open-set rule is measured up to that many).
 */
import type { TrackFace } from '../match/track-evidence.js';

/** Cosine at or above which two faces of a track count as the same look. */
export const KEY_SAME = 0.85;
export const MAX_KEYS = 3;

function dot(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d += a[i]! * b[i]!;
  return d;
}

/** Adds a face (unit embedding) to the keys in place: a new look, or a better face of a look already kept. */
export function addKey(keys: TrackFace[], face: TrackFace): void {
  let same = -1;
  let sameSim = -Infinity;
  keys.forEach((k, i) => {
    const s = dot(k.embedding, face.embedding);
    if (s >= KEY_SAME && s > sameSim) [same, sameSim] = [i, s];
  });
  if (same >= 0) {
    if (face.weight > keys[same]!.weight) keys[same] = face;
    return;
  }
  if (keys.length < MAX_KEYS) {
    keys.push(face);
    return;
  }
  let weakest = 0;
  keys.forEach((k, i) => {
    if (k.weight < keys[weakest]!.weight) weakest = i;
  });
  if (face.weight > keys[weakest]!.weight) keys[weakest] = face;
}
