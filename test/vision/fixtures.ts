/** Test helpers for the detector decoder tests: images via sharp, ground truth from the shared data, ORT runs. */
import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import * as ort from 'onnxruntime-node';
import { dataPath } from '../helpers/data.js';
import type { Box, Detection, Point, RgbImage } from '../../src/vision/types.js';
import { letterboxInto, toFrameDetection } from '../../src/vision/letterbox.js';
import { nhwcToNchw, type Normalisation } from '../../src/vision/tensor.js';
import { nms } from '../../src/vision/nms.js';
import type { Outputs } from '../../src/vision/decode/common.js';

export async function loadRgb(file: string): Promise<RgbImage> {
  const { data, info } = await sharp(file).removeAlpha().toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height, data: new Uint8Array(data.buffer, data.byteOffset, data.length) };
}

export interface GroundTruthFace {
  box: Box;
  /** dlib 68-point derived: eye centres, nose tip, mouth corners (image-left first). */
  landmarks?: Point[];
}

/** dlib_faces testing set: boxes and the 5 points derived from its 68 landmarks. */
export function dlibTesting(): { file: string; faces: GroundTruthFace[] }[] {
  const xml = readFileSync(dataPath('detection/dlib_faces/testing_with_face_landmarks.xml'), 'latin1');
  const images: { file: string; faces: GroundTruthFace[] }[] = [];
  for (const im of xml.matchAll(/<image file='([^']+)'[^>]*>([\s\S]*?)<\/image>/g)) {
    const faces: GroundTruthFace[] = [];
    for (const bx of im[2]!.matchAll(/<box top='(\d+)' left='(\d+)' width='(\d+)' height='(\d+)'[^>]*>([\s\S]*?)<\/box>/g)) {
      const [top, left, w, h] = [bx[1], bx[2], bx[3], bx[4]].map(Number) as [number, number, number, number];
      const parts = new Map<number, Point>();
      for (const p of bx[5]!.matchAll(/<part name='(\d+)' x='(-?\d+)' y='(-?\d+)'\/>/g)) parts.set(Number(p[1]), [Number(p[2]), Number(p[3])]);
      const mean = (a: number, b: number): Point => {
        let x = 0,
          y = 0;
        for (let i = a; i <= b; i++) {
          x += parts.get(i)![0];
          y += parts.get(i)![1];
        }
        return [x / (b - a + 1), y / (b - a + 1)];
      };
      faces.push({
        box: [left, top, left + w, top + h],
        landmarks: parts.size === 68 ? [mean(36, 41), mean(42, 47), parts.get(30)!, parts.get(48)!, parts.get(54)!] : undefined,
      });
    }
    images.push({ file: dataPath('detection/dlib_faces', im[1]!), faces });
  }
  return images;
}

/** wider-val-200 labels: image path → boxes. */
export function widerLabels(): Map<string, Box[]> {
  const m = new Map<string, Box[]>();
  let cur: Box[] | null = null;
  for (const line of readFileSync(dataPath('detection/wider-val-200/labels.txt'), 'utf8').split('\n')) {
    const h = /^# (\S+\.jpg) \d+ \d+/.exec(line);
    if (h) {
      cur = [];
      m.set(h[1]!, cur);
    } else if (cur && /^\d/.test(line)) {
      const v = line.trim().split(/\s+/).map(Number);
      cur.push([v[0]!, v[1]!, v[2]!, v[3]!]);
    }
  }
  return m;
}

/** Letterboxes `img` into `w`x`h`, runs `session` and returns its outputs with the letterbox transform. */
export async function runDetector(session: ort.InferenceSession, img: RgbImage, w: number, h: number, norm: Normalisation) {
  const u8 = new Uint8Array(w * h * 3);
  const t = letterboxInto(img, w, h, u8, 0);
  const f32 = new Float32Array(w * h * 3);
  nhwcToNchw(u8, 0, w, h, f32, 0, norm);
  const res = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', f32, [1, 3, h, w]) });
  const outputs: Record<string, { data: Float32Array; dims: readonly number[] }> = {};
  for (const [k, v] of Object.entries(res)) outputs[k] = { data: v.data as Float32Array, dims: v.dims };
  return { outputs: outputs as Outputs, transform: t };
}

export type Decoder = (o: Outputs, w: number, h: number, thr: number) => Detection[];

/** Letterbox, run, decode, NMS 0.4, map back to frame pixels. */
export async function detect(
  session: ort.InferenceSession,
  img: RgbImage,
  w: number,
  h: number,
  norm: Normalisation,
  decode: Decoder,
  threshold = 0.5,
): Promise<Detection[]> {
  const { outputs, transform } = await runDetector(session, img, w, h, norm);
  return nms(decode(outputs, w, h, threshold), 0.4).map((d) => toFrameDetection(d, transform));
}
