/**
 * YuNet (libfacedetection.train) output decoding. Per stride 8/16/32, one anchor per feature-map cell
 * (row-major): cls_<s> and obj_<s> probabilities (score = sqrt(cls * obj), each clamped to [0, 1]),
 * bbox_<s> = (dx, dy, log w, log h) in units of the stride with the centre at (cell + d) * stride, and
 * kps_<s> = 5 (x, y) offsets from the cell corner in units of the stride. cls and obj have the same shape,
 * so outputs are found by these names.
 */
import { FacegateError } from '../../util/errors.js';
import type { Detection, Point } from '../types.js';
import { gridOf, rowsOf, type DetectorPreprocess, type Outputs, type TensorOut } from './common.js';

export const YUNET_STRIDES = [8, 16, 32] as const;

/** BGR, raw 0..255 (no mean or scaling), NCHW float; sides multiples of 32. */
export const yunetPreprocess: DetectorPreprocess = {
  channelOrder: 'bgr',
  mean: [0, 0, 0],
  std: [1, 1, 1],
  layout: 'nchw',
  sizeMultiple: 32,
};

function named(outputs: Outputs, name: string, rows: number, cols: number): TensorOut {
  const t = outputs[name];
  const d = t?.dims;
  if (!t || d![d!.length - 1] !== cols || d![d!.length - 2] !== rows) {
    const shapes = Object.entries(outputs)
      .map(([n, x]) => `${n}[${x.dims.join(',')}]`)
      .join(' ');
    throw new FacegateError('bad_output', `YuNet output ${name} of ${rows}x${cols} not found among ${shapes}.`);
  }
  return t;
}

/** Detections (model-input pixels) with score >= `scoreThreshold` for batch item `batch`. No NMS. */
export function decodeYunet(outputs: Outputs, inputW: number, inputH: number, scoreThreshold: number, batch = 0): Detection[] {
  const out: Detection[] = [];
  for (const stride of YUNET_STRIDES) {
    const { gw, gh } = gridOf(inputW, inputH, stride);
    const rows = gw * gh;
    const cls = named(outputs, `cls_${stride}`, rows, 1);
    const obj = named(outputs, `obj_${stride}`, rows, 1);
    const box = named(outputs, `bbox_${stride}`, rows, 4);
    const kps = named(outputs, `kps_${stride}`, rows, 10);
    const cb = rowsOf(cls, batch).base,
      ob = rowsOf(obj, batch).base;
    const bb = rowsOf(box, batch).base,
      kb = rowsOf(kps, batch).base;
    const cd = cls.data,
      od = obj.data,
      bd = box.data,
      kd = kps.data;
    for (let r = 0; r < rows; r++) {
      const c = Math.min(1, Math.max(0, cd[cb + r]!));
      const o = Math.min(1, Math.max(0, od[ob + r]!));
      const s = Math.sqrt(c * o);
      if (!(s >= scoreThreshold)) continue;
      const gx = r % gw;
      const gy = (r / gw) | 0;
      const b = bb + r * 4;
      const cx = (gx + bd[b]!) * stride;
      const cy = (gy + bd[b + 1]!) * stride;
      const w = Math.exp(bd[b + 2]!) * stride;
      const h = Math.exp(bd[b + 3]!) * stride;
      const k = kb + r * 10;
      const landmarks: Point[] = [];
      for (let i = 0; i < 5; i++) landmarks.push([(gx + kd[k + i * 2]!) * stride, (gy + kd[k + i * 2 + 1]!) * stride]);
      out.push({ box: [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], score: s, landmarks });
    }
  }
  return out;
}
