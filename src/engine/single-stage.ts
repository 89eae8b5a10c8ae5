/**
 * Single-stage detectors (YuNet, SCRFD, RetinaFace ONNX). A model with a dynamic input runs each frame at its
 * own aspect: scaled so its longest side is at most inputSize (never enlarged), each side rounded up to the
 * model's multiple (a 640x360 frame runs at 640x384), and frames of the same input shape (several cameras) go
 * in one batch. A fixed-input model gets every frame letterboxed (top-left). Decoded, mapped back, NMS.
 */
import type { DetectorPreprocess, Outputs } from '../vision/decode/common.js';
import { decodeScrfd, scrfdPreprocess } from '../vision/decode/scrfd.js';
import { decodeYunet, yunetPreprocess } from '../vision/decode/yunet.js';
import { decodeRetinaface, retinafacePreprocess } from '../vision/decode/retinaface.js';
import { letterboxInto, toFrameDetection, type PlaneTransform } from '../vision/letterbox.js';
import { nativeShape } from '../vision/input-shape.js';
import { nhwcToNchw } from '../vision/tensor.js';
import { nms } from '../vision/nms.js';
import type { Detection, RgbImage } from '../vision/types.js';
import { createSession, type SessionOptions } from '../runtime/session.js';
import { FacegateError } from '../util/errors.js';
import type { Detector } from './detector.js';

export type SingleStageKind = 'scrfd' | 'yunet' | 'retinaface';

type Decode = (o: Outputs, w: number, h: number, thr: number, batch?: number) => Detection[];

const FAMILIES: Record<SingleStageKind, { pre: DetectorPreprocess; decode: Decode }> = {
  scrfd: { pre: scrfdPreprocess, decode: decodeScrfd },
  yunet: { pre: yunetPreprocess, decode: decodeYunet },
  retinaface: { pre: retinafacePreprocess, decode: decodeRetinaface },
};

export interface SingleStageOptions {
  inputSize: number;
  scoreThreshold: number;
  nmsIou: number;
  maxBatch: number;
  /** Model id for the detector id and threshold look-ups (default: the file name). */
  modelId: string;
}

export async function createSingleStageDetector(kind: SingleStageKind, modelPath: string, o: SingleStageOptions, sopts: SessionOptions): Promise<Detector> {
  const { pre, decode } = FAMILIES[kind];
  const session = await createSession(modelPath, { ...sopts, warmupDim: Math.min(o.inputSize, 320) });
  const input = session.inputs[0];
  if (!input || input.shape.length !== 4 || (input.shape[1] > 0 && input.shape[1] !== 3)) {
    await session.release();
    throw new FacegateError('model_mismatch', `${kind} model ${session.path} must take one NCHW float image input, has ${session.inputs.map((i) => `${i.name}[${i.shape}]`).join(', ')}`);
  }
  const m = pre.sizeMultiple;
  const side = Math.ceil(o.inputSize / m) * m;
  const dynamic = !(input.shape[2] > 0 && input.shape[3] > 0);
  const step = input.shape[0] > 0 ? input.shape[0] : o.maxBatch;

  /** The model input shape for a frame: its own (dynamic models) or the model's fixed one. */
  const shapeOf = (f: RgbImage): [number, number] => (dynamic ? nativeShape(f.width, f.height, o.inputSize, m) : [input.shape[3] > 0 ? input.shape[3] : side, input.shape[2] > 0 ? input.shape[2] : side]);

  /** One run over frames that share the input shape W x H. */
  async function runGroup(frames: RgbImage[], W: number, H: number): Promise<Detection[][]> {
    const n = frames.length;
    const per = W * H * 3;
    const u8 = new Uint8Array(n * per);
    const ts: PlaneTransform[] = frames.map((f, i) => letterboxInto(f, W, H, u8, i * per, { centre: false }));
    const f32 = new Float32Array(n * per);
    for (let i = 0; i < n; i++) nhwcToNchw(u8, i * per, W, H, f32, i * per, pre);
    const raw = await session.runFloat({ [input.name]: { data: f32, dims: [n, 3, H, W] } });
    return frames.map((_, i) => {
      const dets = decode(raw, W, H, o.scoreThreshold, i).map((d) => toFrameDetection(d, ts[i]));
      return nms(dets, o.nmsIou);
    });
  }

  return {
    id: `${kind}:${o.modelId}@${session.sha256.slice(0, 12)}`,
    modelId: o.modelId,
    provider: session.provider,
    async detect(frames) {
      const out: Detection[][] = new Array(frames.length);
      const groups = new Map<string, { W: number; H: number; idx: number[] }>();
      frames.forEach((f, i) => {
        const [W, H] = shapeOf(f);
        const k = `${W}x${H}`;
        const g = groups.get(k) ?? { W, H, idx: [] };
        g.idx.push(i);
        groups.set(k, g);
      });
      for (const { W, H, idx } of groups.values()) {
        for (let s = 0; s < idx.length; s += step) {
          const part = idx.slice(s, s + step);
          const r = await runGroup(part.map((i) => frames[i]), W, H);
          part.forEach((i, j) => (out[i] = r[j]));
        }
      }
      return out;
    },
    close: () => session.release(),
  };
}
