/**
 * Single-stage detectors (YuNet, SCRFD, RetinaFace ONNX). A model with a dynamic input runs each frame at its
 * own aspect: scaled so its longest side is at most inputSize (never enlarged), each side rounded up to the
 * model's multiple (a 640x360 frame runs at 640x384), and frames of the same input shape (several cameras) go
 * in one batch. A fixed-input model gets every frame letterboxed (top-left). With `tiles`, an image larger than
 * inputSize is also searched in overlapping tiles at its own resolution (crowd photos). Decoded, mapped back, NMS.
 */
import type { DetectorPreprocess, Outputs } from '../vision/decode/common.js';
import { decodeScrfd, scrfdPreprocess } from '../vision/decode/scrfd.js';
import { decodeYunet, yunetPreprocess } from '../vision/decode/yunet.js';
import { decodeRetinaface, retinafacePreprocess } from '../vision/decode/retinaface.js';
import { letterboxInto, rectTransform, tilePlan, toFrameDetection, type PlaneTransform } from '../vision/letterbox.js';
import { cropResizeInto, type Rect } from '../vision/image.js';
import { nativeShape } from '../vision/input-shape.js';
import { withPixelArena } from '../vision/pixel-arena.js';
import { nms } from '../vision/nms.js';
import type { Detection, RgbImage } from '../vision/types.js';
import { createSession, type SessionOptions } from '../runtime/session.js';
import { FacegateError } from '../util/errors.js';
import type { Detector } from './detector.js';
import type { SingleStageKind } from '../config/schema.js';

export type { SingleStageKind };

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
  /** Also search images larger than inputSize in overlapping inputSize tiles at their own resolution. */
  tiles?: boolean;
}

/** An image cut to run: the whole frame (scaled) or a tile of it at its own resolution. */
interface Piece {
  frame: number;
  rect: Rect;
  W: number;
  H: number;
}

export async function createSingleStageDetector(kind: SingleStageKind, modelPath: string, o: SingleStageOptions, sopts: SessionOptions): Promise<Detector> {
  const { pre, decode } = FAMILIES[kind];
  const session = await createSession(modelPath, { ...sopts, warmupDim: Math.min(o.inputSize, 320) });
  const input = session.inputs[0];
  if (!input || input.shape.length !== 4 || (input.shape[1]! > 0 && input.shape[1] !== 3)) {
    await session.release();
    throw new FacegateError(
      'model_mismatch',
      `${kind} model ${session.path} must take one NCHW float image input, has ${session.inputs.map((i) => `${i.name}[${i.shape}]`).join(', ')}`,
    );
  }
  const m = pre.sizeMultiple;
  const side = Math.ceil(o.inputSize / m) * m;
  const inputName = input.name;
  // NCHW, checked above: a dimension below 1 is dynamic.
  const [batchDim, , heightDim, widthDim] = input.shape as [number, number, number, number];
  const dynamic = !(heightDim > 0 && widthDim > 0);
  const step = batchDim > 0 ? batchDim : o.maxBatch;

  /** The model input shape for a frame: its own (dynamic models) or the model's fixed one. */
  const shapeOf = (f: RgbImage): [number, number] => (dynamic ? nativeShape(f.width, f.height, o.inputSize, m) : [widthDim, heightDim]);

  /** The whole frame, plus (with tiles) inputSize tiles at its own resolution when it is larger than that. */
  function piecesOf(f: RgbImage, frame: number): Piece[] {
    const [W, H] = shapeOf(f);
    const whole: Piece = { frame, rect: { x: 0, y: 0, w: f.width, h: f.height }, W, H };
    if (!o.tiles || !dynamic || Math.max(f.width, f.height) <= side) return [whole];
    const tw = Math.min(side, Math.ceil(f.width / m) * m);
    const th = Math.min(side, Math.ceil(f.height / m) * m);
    return [whole, ...tilePlan(f.width, f.height, tw, th, [1]).map((t) => ({ frame, rect: t.sourceRect, W: tw, H: th }))];
  }

  /** One run over pieces that share the input shape W x H; detections in frame pixels, per piece. */
  async function runGroup(frames: RgbImage[], pieces: Piece[], W: number, H: number): Promise<Detection[][]> {
    const n = pieces.length;
    const per = W * H * 3;
    // The float input is written by a SIMD kernel into a pixel arena and handed to onnxruntime from there.
    return withPixelArena(async (arena) => {
      const at = arena.allocFloats(n * per);
      let u8: Uint8Array | undefined;
      const ts: PlaneTransform[] = pieces.map((p, i) => {
        const f = frames[p.frame]!;
        const whole = p.rect.w === f.width && p.rect.h === f.height;
        const slot = at + i * per * 4;
        // A frame already at the detector's scale (a 640x360 camera frame in 640x384) goes straight in.
        if (whole && f.width <= W && f.height <= H && (f.width === W || f.height === H)) {
          arena.planesInto(arena.stage(f), W, H, slot, pre);
          return { scale: 1, padX: 0, padY: 0 };
        }
        u8 ??= new Uint8Array(per);
        const t = whole ? letterboxInto(f, W, H, u8, 0, { centre: false }) : (cropResizeInto(f, p.rect, W, H, u8, 0, 0), rectTransform(p.rect, 1));
        arena.planesInto(arena.stage({ width: W, height: H, data: u8 }), W, H, slot, pre);
        return t;
      });
      const raw = await session.runFloat({ [inputName]: { data: arena.floats(at, n * per), dims: [n, 3, H, W] } });
      return pieces.map((_, i) => decode(raw, W, H, o.scoreThreshold, i).map((d) => toFrameDetection(d, ts[i]!)));
    });
  }

  return {
    id: `${kind}:${o.modelId}@${session.sha256.slice(0, 12)}`,
    modelId: o.modelId,
    provider: session.provider,
    async detect(frames) {
      const found: Detection[][] = frames.map(() => []);
      const groups = new Map<string, Piece[]>();
      frames.forEach((f, i) => {
        for (const p of piecesOf(f, i)) {
          const k = `${p.W}x${p.H}`;
          groups.set(k, [...(groups.get(k) ?? []), p]);
        }
      });
      for (const pieces of groups.values()) {
        const { W, H } = pieces[0]!;
        for (let s = 0; s < pieces.length; s += step) {
          const part = pieces.slice(s, s + step);
          const r = await runGroup(frames, part, W, H);
          part.forEach((p, j) => found[p.frame]!.push(...r[j]!));
        }
      }
      return found.map((ds) => nms(ds, o.nmsIou));
    },
    close: () => session.release(),
  };
}
