/** Picks the face to enrol from an engine result and says in words why a photo is refused. */
import type { Face } from '../vision/types.js';
import type { FrameFaces, RejectedFace, RejectReason } from './types.js';

export type UploadRejectReason =
  'not_image' | 'too_large' | 'too_many_pixels' | 'no_face' | 'too_small' | 'too_blurry' | 'bad_pose' | 'multiple_faces' | 'bad_face_index';

export type Candidate = (Face & { ok: true }) | (RejectedFace & { ok: false });

export type Choice = { kind: 'face'; face: Face } | { kind: 'reject'; reason: UploadRejectReason; message: string; candidates?: Candidate[] };

const REASON: Record<RejectReason, [UploadRejectReason, string]> = {
  small: ['too_small', 'The face is too small; use a closer or larger photo.'],
  score: ['no_face', 'No clear face was found in this photo.'],
  blur: ['too_blurry', 'The face is too blurry; use a sharper photo.'],
  pose: ['bad_pose', 'The head is turned too far; use a photo facing the camera.'],
};

/** All detections, passed or not, in a stable order (left to right): the order ?face=<index> refers to. */
export function candidates(r: FrameFaces): Candidate[] {
  const all: Candidate[] = [...r.faces.map((f) => ({ ...f, ok: true as const })), ...r.rejected.map((f) => ({ ...f, ok: false as const }))];
  return all.sort((a, b) => a.box[0] - b.box[0] || a.box[1] - b.box[1]);
}

export function chooseFace(r: FrameFaces, index?: number): Choice {
  const all = candidates(r);
  if (index !== undefined) {
    const c = all[index];
    if (!c) {
      // Counted the way the other refusals count: faces found, and how many of them could be enrolled.
      const found =
        all.length === 0
          ? 'no face was found'
          : `it has ${all.length} face${all.length === 1 ? '' : 's'} (0 to ${all.length - 1}, left to right), ${r.faces.length} of them usable`;
      return { kind: 'reject', reason: 'bad_face_index', message: `There is no face number ${index} in this photo: ${found}.` };
    }
    return c.ok ? { kind: 'face', face: c } : { kind: 'reject', reason: REASON[c.reason][0], message: REASON[c.reason][1] };
  }
  if (all.length === 0) return { kind: 'reject', reason: 'no_face', message: 'No face was found in this photo.' };
  // Only faces that pass the quality gate can be enrolled, so only they make a photo ambiguous.
  if (r.faces.length > 1)
    return { kind: 'reject', reason: 'multiple_faces', message: `This photo shows ${r.faces.length} usable faces; pick one.`, candidates: all };
  if (r.faces.length === 1) return { kind: 'face', face: r.faces[0]! };
  // None passed: say why the largest one (most likely the subject) failed.
  const main = r.rejected.reduce((a, b) => (b.quality.size > a.quality.size ? b : a));
  return { kind: 'reject', reason: REASON[main.reason][0], message: REASON[main.reason][1] };
}

/** Best-sample score for avatars: sharpness times how frontal the face is. */
export function sampleScore(q: { blur: number; yaw: number; pitch: number }): number {
  const rad = Math.PI / 180;
  const frontal = Math.max(0, Math.cos(q.yaw * rad)) * Math.max(0, Math.cos(q.pitch * rad));
  return q.blur * frontal;
}
