/**
 * Bring-your-own single-stage detectors (SCRFD, YuNet, RetinaFace ONNX): every frame letterboxed (top-left)
 * into one batch when the model's batch dim is dynamic (else one run per frame), decoded, mapped back, NMS.
 */
import path from 'node:path';
import type { DetectorPreprocess, Outputs } from '../vision/decode/common.js';
import { decodeScrfd, scrfdPreprocess } from '../vision/decode/scrfd.js';
import { decodeYunet, yunetPreprocess } from '../vision/decode/yunet.js';
import { decodeRetinaface, retinafacePreprocess } from '../vision/decode/retinaface.js';
import { letterboxInto, toFrameDetection, type PlaneTransform } from '../vision/letterbox.js';
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
  const W = input.shape[3] > 0 ? input.shape[3] : side;
  const H = input.shape[2] > 0 ? input.shape[2] : side;
  const step = input.shape[0] > 0 ? input.shape[0] : o.maxBatch;
  const per = W * H * 3;

  async function runGroup(frames: RgbImage[]): Promise<Detection[][]> {
    const n = frames.length;
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
    id: `${kind}:${path.basename(modelPath).replace(/\.onnx$/i, '')}@${session.sha256.slice(0, 12)}`,
    provider: session.provider,
    async detect(frames) {
      const out: Detection[][] = [];
      for (let i = 0; i < frames.length; i += step) out.push(...(await runGroup(frames.slice(i, i + step))));
      return out;
    },
    close: () => session.release(),
  };
}
