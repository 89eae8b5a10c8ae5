/**
 * A still photo through the engine without full-size pixels: faces are found on the photo decoded small
 * (decodePhoto), then each face is re-found on a crop of the original at full quality (a region twice the
 * face, resampled so the face is at most REFINE_FACE px) and aligned, gated and embedded from there.
 * Results are in the coordinates of `photo.image`; `toPhoto` maps a face to the photo's own pixels.
 */
import { decodePhotoRegion, type Photo } from '../ingest/still.js';
import { iou } from '../vision/nms.js';
import type { Box, Detection, Face, FaceQuality, Point } from '../vision/types.js';
import type { EngineConfig, QualityConfig } from '../config/schema.js';

type DetectorConfig = EngineConfig['detector'];
import type { FaceEngine, FrameFaces, RejectedFace } from './types.js';

/** Face size (px, longer box side) in the full-quality crop: twice the 112-px aligned crop. */
export const REFINE_FACE = 224;
/** Faces re-found at full quality per photo (the largest first); more are kept as found on the small image. */
export const MAX_REFINED = 8;

/** The longest side photos are decoded at: the detector's input size (twice that when tiling crowd photos). */
export const photoSide = (d: Pick<DetectorConfig, 'inputSize' | 'tiles'>): number => d.inputSize * (d.tiles ? 2 : 1);

type Mapper = (p: Point) => Point;
type Located = Detection & { quality?: FaceQuality };

function mapDet<T extends Located>(d: T, f: Mapper, sizeScale: number): T {
  const [x1, y1] = f([d.box[0], d.box[1]]);
  const [x2, y2] = f([d.box[2], d.box[3]]);
  return { ...d, box: [x1, y1, x2, y2], landmarks: d.landmarks.map(f), ...(d.quality ? { quality: { ...d.quality, size: d.quality.size * sizeScale } } : {}) };
}

/** A face (or any detection) in `photo.image` coordinates → the photo's own pixels. */
export const toPhoto = <T extends Located>(d: T, photo: Photo): T => mapDet(d, (p) => [p[0] / photo.scale, p[1] / photo.scale], 1 / photo.scale);

type Found = { ok: true; f: Face } | { ok: false; f: RejectedFace };
const listed = (r: FrameFaces): Found[] => [...r.faces.map((f) => ({ ok: true as const, f })), ...r.rejected.map((f) => ({ ok: false as const, f }))];
const put = (out: FrameFaces, c: Found) => (c.ok ? out.faces.push(c.f) : out.rejected.push(c.f));

export async function analyzePhoto(engine: Pick<FaceEngine, 'analyze'>, photo: Photo, gate?: Partial<QualityConfig>): Promise<FrameFaces> {
  const [small] = await engine.analyze([photo.image], gate);
  const s = photo.scale;
  if (s >= 1) return small!;
  const all = listed(small!);
  const side = (b: Box) => Math.max(b[2] - b[0], b[3] - b[1]);
  const order = all.map((_, i) => i).sort((a, b) => side(all[b]!.f.box) - side(all[a]!.f.box));
  const out: FrameFaces = { faces: [], rejected: [] };
  const refined = new Set(order.slice(0, MAX_REFINED));
  for (let i = 0; i < all.length; i++) {
    const f = all[i]!.f;
    const keep = () => put(out, all[i]!);
    // The region around the face in photo pixels: twice its size, inside the photo.
    const faceSide = side(f.box) / s;
    const cx = (f.box[0] + f.box[2]) / 2 / s;
    const cy = (f.box[1] + f.box[3]) / 2 / s;
    const x = Math.max(0, Math.floor(cx - faceSide));
    const y = Math.max(0, Math.floor(cy - faceSide));
    const w = Math.min(photo.width, Math.ceil(cx + faceSide)) - x;
    const h = Math.min(photo.height, Math.ceil(cy + faceSide)) - y;
    const k = Math.min(1, REFINE_FACE / faceSide); // crop px per photo px
    // No sharper than the small image already is: nothing to gain.
    if (!refined.has(i) || k <= s * 1.05 || w < 2 || h < 2) {
      keep();
      continue;
    }
    const crop = await decodePhotoRegion(photo, { x, y, w, h }, Math.max(1, Math.round(w * k)), Math.max(1, Math.round(h * k)));
    const kx = crop.width / w;
    const ky = crop.height / h;
    const [r] = await engine.analyze([crop], gate);
    const expected: Box = [(f.box[0] / s - x) * kx, (f.box[1] / s - y) * ky, (f.box[2] / s - x) * kx, (f.box[3] / s - y) * ky];
    const best = listed(r!)
      .map((c) => ({ c, o: iou(c.f.box, expected) }))
      .sort((a, b) => b.o - a.o)[0];
    if (!best || best.o < 0.4) {
      keep();
      continue;
    }
    const back: Mapper = (p) => [(p[0] / kx + x) * s, (p[1] / ky + y) * s];
    put(out, best.c.ok ? { ok: true, f: mapDet(best.c.f, back, s / kx) } : { ok: false, f: mapDet(best.c.f, back, s / kx) });
  }
  return out;
}
