/** The largest face of one still image through the full pipeline (used by embed/compare/enrolment). */
import type { FaceEngine } from './types.js';
import type { Face, RgbImage } from '../vision/types.js';
import { FacegateError } from '../util/errors.js';

/** Accept every detection: a one-off photo is judged by the caller, not by the live-video gate. */
export const OPEN_GATE = { minSize: 0, minScore: 0, minBlur: 0, maxYaw: 90, maxPitch: 90 };

export async function largestFace(engine: FaceEngine, img: RgbImage, what = 'the image'): Promise<Face> {
  const [r] = await engine.analyze([img], OPEN_GATE);
  const area = (f: Face) => (f.box[2] - f.box[0]) * (f.box[3] - f.box[1]);
  const best = r.faces.sort((a, b) => area(b) - area(a))[0];
  if (!best) throw new FacegateError('no_face', `no face found in ${what}`);
  return best;
}
