/**
 * Memory and time of one large photo through the enrolment path (decodePhoto + analyzePhoto): a 38-megapixel
 * JPEG made here from a shared photo upscaled with sharp (kept in memory, never written to the repository).
 */
import sharp from 'sharp';
import type { QualityConfig } from '../config/schema.js';
import { analyzePhoto } from '../engine/photo.js';
import type { FaceEngine } from '../engine/types.js';
import { decodePhoto } from '../ingest/still.js';
import { requireData } from './frames.js';
import { nowMs } from './stats.js';

const rssMb = () => process.memoryUsage().rss / 2 ** 20;

/** Shared photos the bench upscales: a portrait (one large face) and a group (four ~100 px faces). */
export const BENCH_PHOTOS = { portrait: ['identity', 'fr-examples', 'examples', 'obama.jpg'], group: ['identity', 'bbt', 'bbt1.jpg'] };

/** A JPEG of about `megapixels` MP: a shared photo upscaled. */
export async function bigJpeg(megapixels = 38, which: keyof typeof BENCH_PHOTOS = 'portrait'): Promise<{ jpeg: Buffer; width: number; height: number }> {
  const src = requireData(...BENCH_PHOTOS[which]);
  const m = await sharp(src).metadata();
  const k = Math.sqrt((megapixels * 1e6) / (m.width! * m.height!));
  const { data, info } = await sharp(src)
    .resize(Math.round(m.width! * k))
    .jpeg({ quality: 90 })
    .toBuffer({ resolveWithObject: true });
  return { jpeg: data, width: info.width, height: info.height };
}

const collect = async () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setTimeout(r, 100));
  }
};

export interface PhotoBench {
  ms: number;
  faces: number;
  /** RSS added at the peak of the run, and still added 1 s after it (after garbage collection). */
  peakAddedMb: number;
  afterAddedMb: number;
}

/** One enrolment-style analysis of `jpeg` (the pipeline's quality gate), its time and memory. */
export async function benchPhoto(engine: FaceEngine, jpeg: Buffer, maxSide: number, gate: QualityConfig): Promise<PhotoBench> {
  await collect();
  const before = rssMb();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rssMb())), 5);
  const t = nowMs();
  let faces = 0;
  try {
    const photo = await decodePhoto(jpeg, { maxSide, maxBytes: jpeg.length });
    const r = await analyzePhoto(engine, photo, gate);
    faces = r.faces.length;
  } finally {
    clearInterval(timer);
  }
  const ms = nowMs() - t;
  peak = Math.max(peak, rssMb());
  await new Promise((r) => setTimeout(r, 700));
  await collect();
  return { ms, faces, peakAddedMb: peak - before, afterAddedMb: rssMb() - before };
}
