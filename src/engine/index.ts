/**
 * createFaceEngine: detector + aligner + quality gate + embedder. All faces of all frames are aligned into one
 * uint8 batch and embedded in one run (split at engine.maxBatch).
 */
import path from 'node:path';
import { qualitySchema, type EngineConfig, type QualityConfig } from '../config/schema.js';
import type { FaceEngine, FrameFaces, RejectReason, StageTimes } from './types.js';
import type { Detection, Face, FaceQuality, RgbImage } from '../vision/types.js';
import { alignFaceInto } from '../vision/align.js';
import { faceQuality } from '../vision/quality.js';
import { createEmbedder, l2normalise, type Embedder } from './embedder.js';
import { createDetector } from './detectors.js';
import type { Detector } from './detector.js';
import { thresholdFor } from '../match/thresholds.js';
import { meanOfPair } from '../match/cosine.js';
import { silentLogger, type Logger } from '../util/log.js';
import { FacegateError } from '../util/errors.js';

export interface EngineOptions {
  log?: Logger;
  /** Overrides engineConfig.enginesDir (resolved against the working directory). */
  enginesDir?: string;
  /** Folder that relative model paths in the config are resolved against. */
  baseDir?: string;
  /** Default quality gate for analyze(). */
  quality?: Partial<QualityConfig>;
}

/** Which quality rule (if any) a face fails, in a fixed order. */
export function gateReason(q: FaceQuality, g: QualityConfig): RejectReason | null {
  if (q.size < g.minSize) return 'small';
  if (q.score < g.minScore) return 'score';
  if (q.blur < g.minBlur) return 'blur';
  if (Math.abs(q.yaw) > g.maxYaw || Math.abs(q.pitch) > g.maxPitch) return 'pose';
  return null;
}

/** Mirror `n` square crops in place-free fashion: returns a new buffer. */
function mirrored(batch: Uint8Array, n: number, size: number): Uint8Array {
  const out = new Uint8Array(n * size * size * 3);
  const row = size * 3;
  for (let k = 0; k < n; k++) {
    const base = k * size * row;
    for (let y = 0; y < size; y++) {
      const r = base + y * row;
      for (let x = 0; x < size; x++) {
        const s = r + x * 3;
        const d = r + (size - 1 - x) * 3;
        out[d] = batch[s]!;
        out[d + 1] = batch[s + 1]!;
        out[d + 2] = batch[s + 2]!;
      }
    }
  }
  return out;
}

export async function createFaceEngine(cfg: EngineConfig, opts: EngineOptions = {}): Promise<FaceEngine> {
  const log = opts.log ?? silentLogger();
  const enginesDir = path.resolve(opts.enginesDir ?? cfg.enginesDir);
  const resolve = (p: string | undefined) => (p ? path.resolve(opts.baseDir ?? process.cwd(), p) : undefined);
  const sessionOpts = { providers: cfg.providers, threads: cfg.threads, trtFp16: cfg.trtFp16, enginesDir, log };
  const detector: Detector = await createDetector(cfg.detector, resolve(cfg.detector.model), enginesDir, { ...sessionOpts, maxBatch: cfg.maxBatch });
  let embedder: Embedder;
  try {
    embedder = await createEmbedder(cfg.embedder.kind, resolve(cfg.embedder.model), enginesDir, { ...sessionOpts, maxBatch: cfg.maxBatch });
  } catch (e) {
    await detector.close();
    throw e;
  }
  const baseGate: QualityConfig = { ...qualitySchema.parse({}), ...(opts.quality ?? {}) };
  const size = embedder.size;
  const per = size * size * 3;
  const flip = cfg.embedder.flip;
  let closed = false;
  const check = () => {
    if (closed) throw new FacegateError('engine_closed', 'the face engine has been closed');
  };

  /** Embeds `n` crops in `batch` (with flip TTA when configured: the unit mean of each crop's and its mirror's, as enrolment stores them); L2-normalised. */
  const embedCrops = async (batch: Uint8Array, n: number): Promise<Float32Array[]> => {
    if (n === 0) return [];
    if (!flip) return (await embedder.embedBatch(batch, n)).map(l2normalise);
    const both = new Uint8Array(2 * n * per);
    both.set(batch.subarray(0, n * per));
    both.set(mirrored(batch, n, size), n * per);
    const e = await embedder.embedBatch(both, 2 * n);
    return e.slice(0, n).map((v, i) => meanOfPair(v, e[n + i]!));
  };

  const engine: FaceEngine = {
    embedderId: embedder.id,
    detectorId: detector.id,
    defaultThreshold: thresholdFor(embedder.modelId, detector.modelId),
    provider: detector.provider === embedder.provider ? embedder.provider : `${detector.provider}+${embedder.provider}`,
    parallelism: 1,
    async detect(frames: RgbImage[]) {
      check();
      return frames.length ? detector.detect(frames) : [];
    },
    async analyze(frames: RgbImage[], gate?: Partial<QualityConfig>, times?: StageTimes): Promise<FrameFaces[]> {
      check();
      const g = { ...baseGate, ...(gate ?? {}) };
      const t0 = performance.now();
      const dets = frames.length ? await detector.detect(frames) : [];
      const t1 = performance.now();
      const all: { frame: number; det: Detection }[] = [];
      dets.forEach((ds, f) => ds.forEach((det) => all.push({ frame: f, det })));
      const crops = new Uint8Array(all.length * per);
      const results: FrameFaces[] = frames.map(() => ({ faces: [], rejected: [] }));
      const keep: { frame: number; det: Detection; quality: FaceQuality; slot: number }[] = [];
      all.forEach(({ frame, det }, i) => {
        alignFaceInto(frames[frame]!, det.landmarks, size, crops, i * per);
        const aligned = { width: size, height: size, data: crops.subarray(i * per, (i + 1) * per) };
        const quality = faceQuality(det, aligned);
        const reason = gateReason(quality, g);
        if (reason) results[frame]!.rejected.push({ ...det, quality, reason });
        else keep.push({ frame, det, quality, slot: i });
      });
      // Survivors packed contiguously for one embedder run (already so when the gate let every face through).
      const batch = keep.length === all.length ? crops : new Uint8Array(keep.length * per);
      if (batch !== crops) keep.forEach((k, j) => batch.set(crops.subarray(k.slot * per, (k.slot + 1) * per), j * per));
      const t2 = performance.now();
      const emb = await embedCrops(batch, keep.length);
      if (times) {
        times.detect = (t1 - t0) / 1000;
        times.align = (t2 - t1) / 1000;
        times.embed = (performance.now() - t2) / 1000;
      }
      keep.forEach((k, j) => {
        const face: Face = {
          ...k.det,
          quality: k.quality,
          aligned: { width: size, height: size, data: batch.slice(j * per, (j + 1) * per) },
          embedding: emb[j]!,
        };
        results[k.frame]!.faces.push(face);
      });
      return results;
    },
    async embedAligned(crops: RgbImage[]) {
      check();
      const batch = new Uint8Array(crops.length * per);
      crops.forEach((c, i) => {
        if (c.width !== size || c.height !== size || c.data.length < per)
          throw new FacegateError('bad_crop', `aligned crop ${i} is ${c.width}x${c.height}, the embedder takes ${size}x${size}`);
        batch.set(c.data.subarray(0, per), i * per);
      });
      return embedCrops(batch, crops.length);
    },
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all([detector.close(), embedder.close()]);
    },
  };
  log.info({ detector: detector.id, embedder: embedder.id, provider: engine.provider }, 'face engine ready');
  return engine;
}
