/** Test inputs: dlib's hand-labelled faces (boxes + 68 landmarks) and sharp-based crops. */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { dataPath } from '../helpers/data.js';

export interface LabelledFace {
  file: string;
  /** [x1, y1, x2, y2] */
  box: [number, number, number, number];
  /** Image-left eye centre, image-right eye centre, nose tip, image-left / image-right mouth corner (from the 68 points). */
  points: [number, number][];
}

export const DLIB_DIR = () => dataPath('detection', 'dlib_faces');

export function dlibFaces(): LabelledFace[] {
  const faces: LabelledFace[] = [];
  for (const name of ['testing_with_face_landmarks.xml', 'training_with_face_landmarks.xml']) {
    const xml = readFileSync(`${DLIB_DIR()}/${name}`, 'utf8');
    for (const im of xml.matchAll(/<image file='([^']+)'[^>]*>([\s\S]*?)<\/image>/g)) {
      for (const b of im[2]!.matchAll(/<box top='(-?\d+)' left='(-?\d+)' width='(\d+)' height='(\d+)'[^>]*>([\s\S]*?)<\/box>/g)) {
        const parts = new Map<number, [number, number]>();
        for (const p of b[5]!.matchAll(/<part name='(\d+)' x='(-?\d+)' y='(-?\d+)'/g)) parts.set(Number(p[1]), [Number(p[2]), Number(p[3])]);
        if (parts.size !== 68) continue;
        const mean = (a: number, z: number): [number, number] => {
          let x = 0;
          let y = 0;
          for (let i = a; i <= z; i++) [x, y] = [x + parts.get(i)![0], y + parts.get(i)![1]];
          return [x / (z - a + 1), y / (z - a + 1)];
        };
        const [left, top, w, h] = [Number(b[2]), Number(b[1]), Number(b[3]), Number(b[4])];
        faces.push({
          file: im[1]!,
          box: [left, top, left + w, top + h],
          points: [mean(36, 41), mean(42, 47), parts.get(30)!, parts.get(48)!, parts.get(54)!],
        });
      }
    }
  }
  return faces;
}

const padded = new Map<string, Promise<{ data: Buffer; width: number; height: number; pad: number }>>();

/** A size x size RGB crop of the square (x, y, s) of an image; outside the image is black. */
export async function squareCrop(file: string, x: number, y: number, s: number, size: number): Promise<Uint8Array> {
  let p = padded.get(file);
  if (!p) {
    const pad = 400;
    p = sharp(file)
      .removeAlpha()
      .extend({ top: pad, bottom: pad, left: pad, right: pad, background: { r: 0, g: 0, b: 0 } })
      .raw()
      .toBuffer({ resolveWithObject: true })
      .then((r) => ({ data: r.data, width: r.info.width, height: r.info.height, pad }));
    padded.set(file, p);
  }
  const img = await p;
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extract({ left: Math.round(x) + img.pad, top: Math.round(y) + img.pad, width: Math.round(s), height: Math.round(s) })
    .resize(size, size, { fit: 'fill' })
    .raw()
    .toBuffer();
  return new Uint8Array(buf);
}

/** A whole image resized to w x h RGB. */
export async function resized(file: string, w: number, h: number): Promise<Uint8Array> {
  return new Uint8Array(await sharp(file).removeAlpha().resize(w, h, { fit: 'fill' }).raw().toBuffer());
}
