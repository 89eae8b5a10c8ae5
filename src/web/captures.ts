/** Camera captures waiting for the user to pick a face, and how their faces are shown (numbered, with thumbnails). */
import { randomBytes } from 'node:crypto';
import type { RgbImage } from '../vision/types.js';
import type { Candidate } from '../engine/choose-face.js';
import { thumbDataUrl } from './images.js';

/** Camera captures waiting for the user to pick a face: id → faces, kept a few minutes; each face is enrolled once. */
export class Captures {
  private readonly map = new Map<string, { camera: string; faces: Candidate[]; frame: RgbImage; expires: number; used: Map<number, string> }>();
  put(camera: string, faces: Candidate[], frame: RgbImage): string {
    const now = Date.now();
    for (const [k, v] of this.map) if (v.expires < now) this.map.delete(k);
    while (this.map.size >= 20) this.map.delete(this.map.keys().next().value!);
    const id = randomBytes(9).toString('base64url');
    this.map.set(id, { camera, faces, frame, expires: now + 5 * 60_000, used: new Map() });
    return id;
  }
  get(id: string) {
    const v = this.map.get(id);
    return v && v.expires >= Date.now() ? v : null;
  }
}

export async function candidateJson(frame: RgbImage, faces: Candidate[]) {
  return Promise.all(
    faces.map(async (f, index) => ({
      index,
      box: f.box.map((v) => Math.round(v)),
      ok: f.ok,
      reason: f.ok ? null : f.reason,
      quality: f.quality,
      thumbnail: await thumbDataUrl(frame, f.box),
    })),
  );
}
