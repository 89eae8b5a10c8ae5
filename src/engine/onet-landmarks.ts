/**
 * Five landmarks from MTCNN's O-Net on another detector's boxes (12.9 M MACs a face): O-Net on the square
 * around the box, its box regression, then O-Net again on the square around the regressed box, whose
 * landmarks replace the detector's own. Box and score stay the detector's.
 */
import { createSession, type Session, type SessionOptions } from '../runtime/session.js';
import { manifestModel } from '../runtime/manifest.js';
import { readManifest } from '../models/manifest.js';
import { withPixelArena } from '../vision/pixel-arena.js';
import { calibrate, MTCNN_LAYOUT, ONET_SIZE, onetLandmarks, readReg, squareBox } from '../vision/mtcnn.js';
import type { Box, Detection, RgbImage } from '../vision/types.js';
import { Halvings } from './halving.js';

export interface LandmarkRefiner {
  refine(frames: RgbImage[], dets: Detection[][]): Promise<Detection[][]>;
  close(): Promise<void>;
}

/** O-Net crops per run on the CPU (as the MTCNN detector uses). */
const RUN = 16;

export async function createOnetRefiner(enginesDir: string, opts: SessionOptions, passes = 2): Promise<LandmarkRefiner> {
  const { file, entry } = manifestModel(enginesDir, 'mtcnn-onet', readManifest(enginesDir));
  const onet: Session = await createSession(file, { ...opts, expect: entry });
  const input = onet.inputs[0]!.name;
  const slot = ONET_SIZE * ONET_SIZE * 3;

  /** O-Net over `boxes` (frame index, box); returns reg and landmarks per box. */
  async function run(frames: RgbImage[], halvings: (f: RgbImage) => Halvings, boxes: { f: number; box: Box }[]) {
    const reg = new Float32Array(boxes.length * 4);
    const lm = new Float32Array(boxes.length * 10);
    for (let s = 0; s < boxes.length; s += RUN) {
      const part = boxes.slice(s, s + RUN);
      const buf = new Uint8Array(part.length * slot);
      part.forEach(({ f, box }, i) =>
        halvings(frames[f]!).cropInto({ x: box[0], y: box[1], w: box[2] - box[0], h: box[3] - box[1] }, ONET_SIZE, ONET_SIZE, buf, i * slot),
      );
      const out = await onet.runFloat({ [input]: { data: buf, dims: [part.length, ONET_SIZE, ONET_SIZE, 3] } });
      reg.set(out.reg!.data.subarray(0, part.length * 4), s * 4);
      lm.set(out.landmarks!.data.subarray(0, part.length * 10), s * 10);
    }
    return { reg, lm };
  }

  return {
    async refine(frames, dets) {
      const flat: { f: number; k: number; box: Box }[] = [];
      dets.forEach((ds, f) => ds.forEach((d, k) => flat.push({ f, k, box: squareBox(d.box) })));
      if (!flat.length) return dets;
      return withPixelArena(async (arena) => {
        const made = new Map<RgbImage, Halvings>();
        const halvings = (img: RgbImage) => {
          let h = made.get(img);
          if (!h) made.set(img, (h = new Halvings(arena, img)));
          return h;
        };
        let boxes = flat.map(({ f, box }) => ({ f, box }));
        let r = await run(frames, halvings, boxes);
        for (let p = 1; p < passes; p++) {
          boxes = boxes.map((b, i) => ({ f: b.f, box: squareBox(calibrate(b.box, readReg(r.reg, i * 4, MTCNN_LAYOUT))) }));
          r = await run(frames, halvings, boxes);
        }
        const out = dets.map((ds) => ds.slice());
        flat.forEach(({ f, k }, i) => (out[f]![k] = { ...out[f]![k]!, landmarks: onetLandmarks(boxes[i]!.box, r.lm, i, MTCNN_LAYOUT) }));
        return out;
      });
    },
    close: () => onet.release(),
  };
}
