/**
 * TEMPORARY (tests only): a stand-in FaceEngine until src/engine/index.ts exists. It runs the reference SCRFD
 * ONNX from the shared data for real detections; the "embedding" is a normalised 16x16 grey thumbnail of the
 * crop and the pose is estimated roughly from the landmarks. Delete once createFaceEngine lands.
 */
import ort from 'onnxruntime-node';
import sharp from 'sharp';
import type { FaceEngine, FrameFaces, RejectedFace } from '../../src/engine/types.js';
import type { QualityConfig } from '../../src/config/schema.js';
import { qualitySchema } from '../../src/config/schema.js';
import type { Box, Detection, Face, FaceQuality, Point, RgbImage } from '../../src/vision/types.js';

const SIZE = 640;
const STRIDES = [8, 16, 32];

async function letterbox(img: RgbImage): Promise<{ tensor: Float32Array; scale: number }> {
  // No upscaling: SCRFD misses faces that fill a whole 640 input.
  const scale = Math.min(SIZE / img.width, SIZE / img.height, 1);
  const w = Math.max(1, Math.round(img.width * scale));
  const h = Math.max(1, Math.round(img.height * scale));
  const buf = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize(w, h, { fit: 'fill' })
    .extend({ right: SIZE - w, bottom: SIZE - h, background: { r: 0, g: 0, b: 0 } })
    .raw()
    .toBuffer();
  const t = new Float32Array(3 * SIZE * SIZE);
  for (let i = 0; i < SIZE * SIZE; i++) for (let ch = 0; ch < 3; ch++) t[ch * SIZE * SIZE + i] = (buf[i * 3 + ch] - 127.5) / 128;
  return { tensor: t, scale };
}

const iou = (a: Box, b: Box) => {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const i = w * h;
  return i / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - i);
};

async function crop(img: RgbImage, box: Box, size: number): Promise<RgbImage> {
  const left = Math.max(0, Math.floor(box[0]));
  const top = Math.max(0, Math.floor(box[1]));
  const width = Math.max(1, Math.min(img.width - left, Math.ceil(box[2] - box[0])));
  const height = Math.max(1, Math.min(img.height - top, Math.ceil(box[3] - box[1])));
  const data = await sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .extract({ left, top, width, height })
    .resize(size, size, { fit: 'fill' })
    .raw()
    .toBuffer();
  return { width: size, height: size, data: new Uint8Array(data) };
}

function laplacianVariance(img: RgbImage): number {
  const { width: w, height: h, data } = img;
  const g = new Float32Array(w * h);
  for (let i = 0; i < w * h; i++) g[i] = 0.299 * data[i * 3] + 0.587 * data[i * 3 + 1] + 0.114 * data[i * 3 + 2];
  let sum = 0;
  let sq = 0;
  let n = 0;
  for (let y = 1; y < h - 1; y++)
    for (let x = 1; x < w - 1; x++) {
      const v = g[(y - 1) * w + x] + g[(y + 1) * w + x] + g[y * w + x - 1] + g[y * w + x + 1] - 4 * g[y * w + x];
      sum += v;
      sq += v * v;
      n++;
    }
  return sq / n - (sum / n) ** 2;
}

function pose(l: Point[]): { yaw: number; pitch: number; roll: number } {
  const [le, re, nose, lm, rm] = l;
  const eyeMid: Point = [(le[0] + re[0]) / 2, (le[1] + re[1]) / 2];
  const mouthMid: Point = [(lm[0] + rm[0]) / 2, (lm[1] + rm[1]) / 2];
  const eyeDist = Math.hypot(re[0] - le[0], re[1] - le[1]) || 1;
  const yaw = Math.max(-90, Math.min(90, ((nose[0] - eyeMid[0]) / eyeDist) * 90));
  const vert = mouthMid[1] - eyeMid[1] || 1;
  const pitch = Math.max(-90, Math.min(90, ((nose[1] - eyeMid[1]) / vert - 0.5) * 120));
  const roll = (Math.atan2(re[1] - le[1], re[0] - le[0]) * 180) / Math.PI;
  return { yaw, pitch, roll };
}

export class TempScrfdEngine implements FaceEngine {
  readonly embedderId = 'temp-grey16@test';
  readonly detectorId = 'scrfd_500m_bnkps@reference';
  readonly defaultThreshold = 0.9;
  readonly provider = 'cpu';
  private constructor(private readonly session: ort.InferenceSession) {}

  static async create(modelPath: string): Promise<TempScrfdEngine> {
    return new TempScrfdEngine(await ort.InferenceSession.create(modelPath));
  }

  async detect(frames: RgbImage[]): Promise<Detection[][]> {
    const out: Detection[][] = [];
    for (const f of frames) {
      const { tensor, scale } = await letterbox(f);
      const r = await this.session.run({ [this.session.inputNames[0]]: new ort.Tensor('float32', tensor, [1, 3, SIZE, SIZE]) });
      const dets: Detection[] = [];
      for (const s of STRIDES) {
        const scores = r[`score_${s}`].data as Float32Array;
        const boxes = r[`bbox_${s}`].data as Float32Array;
        const kps = r[`kps_${s}`].data as Float32Array;
        const cols = SIZE / s;
        for (let i = 0; i < scores.length; i++) {
          if (scores[i] < 0.5) continue;
          const cell = Math.floor(i / 2);
          const cx = (cell % cols) * s;
          const cy = Math.floor(cell / cols) * s;
          const box: Box = [
            (cx - boxes[i * 4] * s) / scale,
            (cy - boxes[i * 4 + 1] * s) / scale,
            (cx + boxes[i * 4 + 2] * s) / scale,
            (cy + boxes[i * 4 + 3] * s) / scale,
          ];
          const landmarks: Point[] = [];
          for (let k = 0; k < 5; k++) landmarks.push([(cx + kps[i * 10 + k * 2] * s) / scale, (cy + kps[i * 10 + k * 2 + 1] * s) / scale]);
          dets.push({ box, score: scores[i], landmarks });
        }
      }
      dets.sort((a, b) => b.score - a.score);
      const keep: Detection[] = [];
      for (const d of dets) if (keep.every((k) => iou(k.box, d.box) < 0.4)) keep.push(d);
      out.push(keep.map((d) => ({ ...d, box: [Math.max(0, d.box[0]), Math.max(0, d.box[1]), Math.min(f.width, d.box[2]), Math.min(f.height, d.box[3])] as Box })));
    }
    return out;
  }

  async analyze(frames: RgbImage[], gate?: Partial<QualityConfig>): Promise<FrameFaces[]> {
    const g = { ...qualitySchema.parse({}), ...gate };
    const dets = await this.detect(frames);
    return Promise.all(
      dets.map(async (ds, fi) => {
        const faces: Face[] = [];
        const rejected: RejectedFace[] = [];
        for (const d of ds) {
          const aligned = await crop(frames[fi], d.box, 112);
          const quality: FaceQuality = { size: Math.min(d.box[2] - d.box[0], d.box[3] - d.box[1]), score: d.score, blur: laplacianVariance(aligned), ...pose(d.landmarks) };
          const reason =
            quality.size < g.minSize ? 'small' : quality.score < g.minScore ? 'score' : quality.blur < g.minBlur ? 'blur' : Math.abs(quality.yaw) > g.maxYaw || Math.abs(quality.pitch) > g.maxPitch ? 'pose' : null;
          if (reason) rejected.push({ ...d, quality, reason });
          else faces.push({ ...d, quality, aligned, embedding: (await this.embedAligned([aligned]))[0] });
        }
        return { faces, rejected };
      }),
    );
  }

  async embedAligned(crops: RgbImage[]): Promise<Float32Array[]> {
    return Promise.all(
      crops.map(async (c) => {
        const g = await sharp(c.data, { raw: { width: c.width, height: c.height, channels: 3 } }).greyscale().resize(16, 16, { fit: 'fill' }).raw().toBuffer();
        const v = Float32Array.from(g);
        const mean = v.reduce((a, b) => a + b, 0) / v.length;
        let n = 0;
        for (let i = 0; i < v.length; i++) {
          v[i] -= mean;
          n += v[i] * v[i];
        }
        n = Math.sqrt(n) || 1;
        return v.map((x) => x / n);
      }),
    );
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}
