/** Look-ups the camera, event and unknown-face routes share: a person by id, a snapshot's URL and its face crop. */
import type { RgbImage } from '../../vision/types.js';
import type { AppDeps } from '../ports.js';
import { fail, validId } from '../http.js';
import { decodeFile } from '../images.js';
import { readInside } from '../files.js';
import { isId } from '../../util/ids.js';

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

/** The face picture of a snapshot, as RGB; a grey square when the snapshot is gone. */
export async function snapshotCrop(deps: Pick<AppDeps, 'snapshots' | 'config'>, id: string | null): Promise<RgbImage> {
  if (isId(id)) {
    const p = await deps.snapshots.path(id);
    if (p) {
      try {
        await readInside(deps.config.dataDir, p);
        return await decodeFile(p);
      } catch {
        /* fall through */
      }
    }
  }
  return { width: 112, height: 112, data: new Uint8Array(112 * 112 * 3).fill(128) };
}
