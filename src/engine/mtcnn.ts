/**
 * MTCNN detector (P-Net, R-Net, O-Net from engines/). P-Net runs per pyramid level with all frames of the
 * same size in one batch; R-Net and O-Net each run once over the candidates of all frames. The stage maths
 * live in src/vision/mtcnn.ts.
 */
import type { EngineConfig } from '../config/schema.js';
import { createSession, type FloatTensor, type Session, type SessionOptions } from '../runtime/session.js';
import { FacegateError } from '../util/errors.js';
import { manifestModel } from '../runtime/manifest.js';
import { readManifest } from '../models/manifest.js';
import { Halvings } from './halving.js';
import { withPixelArena, type PixelArena } from '../vision/pixel-arena.js';
import {
  MTCNN_DEFAULTS,
  MTCNN_LAYOUT,
  ONET_SIZE,
  onetFinish,
  onetLandmarks,
  pnetCandidates,
  pnetMerge,
  pyramid,
  RNET_SIZE,
  rnetRefine,
  squareBox,
  type MtcnnCandidate,
  type MtcnnLayout,
} from '../vision/mtcnn.js';
import type { Detection, RgbImage } from '../vision/types.js';
import type { Detector } from './detector.js';

export interface MtcnnTuning {
  factor: number;
  /** P-Net and R-Net thresholds; O-Net uses detector.scoreThreshold. */
  pnetThreshold: number;
  rnetThreshold: number;
  /** Re-run O-Net on the square around each final box and take its landmarks (better alignment). */
  refineLandmarks: boolean;
  layout: MtcnnLayout;
  /** Downscale through 2x2-box halvings before bilinear resampling (P-Net levels, R-Net/O-Net crops). */
  antiAlias: boolean;
  /** IoU thresholds of the NMS passes (within a level, across levels, after R-Net, after O-Net). */
  nms: { level: number; pnet: number; rnet: number; onet: number };
}

/**
 * Tuned on WIDER-val-200 (AP50 faces >= 32 px): the classic 0.6 / 0.7 gave 80.3, 0.5 / 0.6 81.3, and
 * with anti-aliased downscaling 82.0.
 */
export const MTCNN_TUNING: MtcnnTuning = {
  factor: MTCNN_DEFAULTS.factor,
  pnetThreshold: 0.5,
  rnetThreshold: 0.6,
  refineLandmarks: true,
  // As documented in the manifest: reg [dx1, dy1, dx2, dy2], landmarks [x0..x4, y0..y4].
  layout: MTCNN_LAYOUT,
  antiAlias: true,
  nms: MTCNN_DEFAULTS.nms,
};

/**
 * Largest crop batch per R-Net/O-Net run (24/48-px inputs are small, so this is above engine.maxBatch). On the
 * CPU small runs keep the activations in cache: 16 crops per run against 64 (R-Net) and 32 (O-Net) made the whole
 * pipeline 3% faster with one worker and 6% with two (paired rounds on the Hamilton clip; 8 was no better).
 */
const CROP_BATCH = { gpu: { rnet: 256, onet: 256 }, cpu: { rnet: 16, onet: 16 } };

/** Output map size P-Net gives for an input side: (side - 2) / 2 rounded up, minus 4. */
const pnetOut = (side: number) => Math.ceil((side - 2) / 2) - 4;

/** Whether P-Net's maps come out [N, W', H'] instead of [N, H', W'] (probed with a non-square input). */
async function probePnetOrientation(pnet: Session, input: string): Promise<boolean> {
  const h = 40;
  const w = 24;
  const out = await pnet.runFloat({ [input]: { data: new Uint8Array(h * w * 3), dims: [1, h, w, 3] } });
  const [, a, b] = out.prob!.dims;
  if (a === pnetOut(h) && b === pnetOut(w)) return false;
  if (a === pnetOut(w) && b === pnetOut(h)) return true;
  throw new FacegateError('model_mismatch', `${pnet.path}: P-Net output ${out.prob!.dims.join('x')} fits neither orientation for a ${w}x${h} input`);
}

/** [N, A, B, C] → [N, B, A, C] (C = 1 for prob maps). */
function transposeMaps(t: FloatTensor, c: number): FloatTensor {
  const [n, a, b] = t.dims as [number, number, number];
  const out = new Float32Array(t.data.length);
  for (let k = 0; k < n; k++) {
    const base = k * a * b * c;
    for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) for (let q = 0; q < c; q++) out[base + (j * a + i) * c + q] = t.data[base + (i * b + j) * c + q]!;
  }
  return { data: out, dims: c === 1 ? [n, b, a] : [n, b, a, c] };
}

export async function createMtcnnDetector(
  enginesDir: string,
  cfg: EngineConfig['detector'],
  opts: SessionOptions & { maxBatch: number },
  tuning: Partial<MtcnnTuning> = {},
): Promise<Detector> {
  const t: MtcnnTuning = { ...MTCNN_TUNING, ...tuning };
  const manifest = readManifest(enginesDir);
  const open = async (id: string) => {
    const { file, entry } = manifestModel(enginesDir, id, manifest);
    return createSession(file, { ...opts, expect: entry, warmupDim: id === 'mtcnn-pnet' ? 24 : undefined });
  };
  const sessions: Session[] = [];
  try {
    for (const id of ['mtcnn-pnet', 'mtcnn-rnet', 'mtcnn-onet']) sessions.push(await open(id));
  } catch (e) {
    await Promise.all(sessions.map((s) => s.release()));
    throw e;
  }
  const [pnet, rnet, onet] = sessions as [Session, Session, Session];
  const pIn = pnet.inputs[0]!.name;
  const rIn = rnet.inputs[0]!.name;
  const oIn = onet.inputs[0]!.name;
  const chunkP = opts.maxBatch;
  const pnetTransposed = await probePnetOrientation(pnet, pIn);
  const cropBatch = CROP_BATCH[pnet.provider === 'cpu' ? 'cpu' : 'gpu'];

  /** A frame's halvings, made once per detect call in its pixel arena. */
  type HalvingsOf = (f: RgbImage) => Halvings;

  /** Stage 1 for frames of one size: one P-Net run per pyramid level (chunked at maxBatch). */
  async function stage1(frames: RgbImage[], halvings: HalvingsOf): Promise<Detection[][]> {
    const { width: W, height: H } = frames[0]!;
    const per: MtcnnCandidate[][][] = frames.map(() => []);
    for (const level of pyramid(W, H, cfg.minFaceSize, t.factor)) {
      const slot = level.width * level.height * 3;
      for (let s = 0; s < frames.length; s += chunkP) {
        const group = frames.slice(s, s + chunkP);
        const buf = new Uint8Array(group.length * slot);
        group.forEach((f, i) => halvings(f).cropInto({ x: 0, y: 0, w: W, h: H }, level.width, level.height, buf, i * slot));
        const out = await pnet.runFloat({ [pIn]: { data: buf, dims: [group.length, level.height, level.width, 3] } });
        let { prob, reg } = out;
        if (pnetTransposed) {
          prob = transposeMaps(prob!, 1);
          reg = transposeMaps(reg!, 4);
        }
        const [, oh, ow] = prob!.dims as [number, number, number];
        group.forEach((_, i) => per[s + i]!.push(pnetCandidates(prob!.data, reg!.data, ow, oh, level, W, H, t.pnetThreshold, i, t.layout)));
      }
    }
    return per.map((levels) => pnetMerge(levels, W, H, t.nms));
  }

  /** Runs a crop net over every frame's boxes in shared batches of at most `step`; returns outputs per frame (sliced). */
  async function cropStage(
    net: Session,
    input: string,
    size: number,
    step: number,
    frames: RgbImage[],
    halvings: HalvingsOf,
    boxes: Detection[][],
    names: string[],
  ): Promise<Record<string, Float32Array>[]> {
    const slot = size * size * 3;
    const flat: { f: number; d: Detection }[] = [];
    boxes.forEach((bs, f) => bs.forEach((d) => flat.push({ f, d })));
    const total = flat.length;
    const acc: Record<string, Float32Array> = {};
    const widths: Record<string, number> = {};
    for (let s = 0; s < total; s += step) {
      const part = flat.slice(s, s + step);
      const buf = new Uint8Array(part.length * slot);
      part.forEach(({ f, d }, i) => {
        const [x1, y1, x2, y2] = d.box;
        halvings(frames[f]!).cropInto({ x: x1, y: y1, w: x2 - x1, h: y2 - y1 }, size, size, buf, i * slot);
      });
      const out = await net.runFloat({ [input]: { data: buf, dims: [part.length, size, size, 3] } });
      for (const n of names) {
        const w = out[n]!.data.length / part.length;
        if (!acc[n]) {
          acc[n] = new Float32Array(total * w);
          widths[n] = w;
        }
        acc[n].set(out[n]!.data, s * widths[n]!);
      }
    }
    const res: Record<string, Float32Array>[] = [];
    let k = 0;
    for (const bs of boxes) {
      const r: Record<string, Float32Array> = {};
      for (const n of names) r[n] = acc[n] ? acc[n].subarray(k * widths[n]!, (k + bs.length) * widths[n]!) : new Float32Array(0);
      res.push(r);
      k += bs.length;
    }
    return res;
  }

  async function detect(frames: RgbImage[]): Promise<Detection[][]> {
    return withPixelArena((arena) => detectIn(arena, frames));
  }

  async function detectIn(arena: PixelArena, frames: RgbImage[]): Promise<Detection[][]> {
    const made = new Map<RgbImage, Halvings>();
    const halvings: HalvingsOf = (f) => {
      let h = made.get(f);
      if (!h) made.set(f, (h = new Halvings(arena, f, !t.antiAlias)));
      return h;
    };
    // Stage 1: frames grouped by size.
    const s1 = new Array<Detection[]>(frames.length);
    const groups = new Map<string, number[]>();
    frames.forEach((f, i) => {
      const k = `${f.width}x${f.height}`;
      groups.set(k, [...(groups.get(k) ?? []), i]);
    });
    for (const idx of groups.values()) {
      const r = await stage1(
        idx.map((i) => frames[i]!),
        halvings,
      );
      idx.forEach((i, j) => (s1[i] = r[j]!));
    }
    // Stage 2: R-Net over all candidates of all frames.
    const r2 = await cropStage(rnet, rIn, RNET_SIZE, cropBatch.rnet, frames, halvings, s1, ['prob', 'reg']);
    const s2 = frames.map((f, i) => rnetRefine(s1[i]!, r2[i]!.prob!, r2[i]!.reg!, f.width, f.height, t.rnetThreshold, t.nms.rnet, t.layout));
    // Stage 3: O-Net.
    const r3 = await cropStage(onet, oIn, ONET_SIZE, cropBatch.onet, frames, halvings, s2, ['prob', 'reg', 'landmarks']);
    let s3 = frames.map((_, i) => onetFinish(s2[i]!, r3[i]!.prob!, r3[i]!.reg!, r3[i]!.landmarks!, cfg.scoreThreshold, t.nms.onet, t.layout));
    if (t.refineLandmarks) {
      // O-Net again on the square around each regressed box: its landmarks are more precise there.
      const sq = s3.map((ds) => ds.map((d) => ({ ...d, box: squareBox(d.box) })));
      const r4 = await cropStage(onet, oIn, ONET_SIZE, cropBatch.onet, frames, halvings, sq, ['landmarks']);
      s3 = s3.map((ds, i) => ds.map((d, k) => ({ ...d, landmarks: onetLandmarks(sq[i]![k]!.box, r4[i]!.landmarks!, k, t.layout) })));
    }
    return s3;
  }

  return {
    id: `mtcnn@${pnet.sha256.slice(0, 6)}${rnet.sha256.slice(0, 3)}${onet.sha256.slice(0, 3)}`,
    modelId: 'mtcnn',
    provider: pnet.provider,
    detect,
    close: async () => {
      await Promise.all(sessions.map((s) => s.release()));
    },
  };
}
