/** The largest face of one still photo through the full pipeline (used by embed/compare). */
import type { FaceEngine } from './types.js';
import type { Face, RgbImage } from '../vision/types.js';
import { photoOf, type Photo } from '../ingest/still.js';
import { FacegateError } from '../util/errors.js';
import { analyzePhoto, toPhoto } from './photo.js';

/** Accept every detection: a one-off photo is judged by the caller, not by the live-video gate. */
export const OPEN_GATE = { minSize: 0, minScore: 0, minBlur: 0, maxYaw: 90, maxPitch: 90 };

/** The largest face, its box and landmarks in the photo's own pixels. */
export async function largestFace(engine: FaceEngine, input: Photo | RgbImage, what = 'the image'): Promise<Face> {
  const photo = 'source' in input ? input : photoOf(input, what);
  const r = await analyzePhoto(engine, photo, OPEN_GATE);
  const area = (f: Face) => (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]);
  const best = r.faces.sort((a, b) => area(b) - area(a))[0];
  if (!best) throw new FacegateError('no_face', `no face found in ${what}`);
  return toPhoto(best, photo);
}
