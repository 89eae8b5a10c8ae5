/**
 * Enrolment is not real time, so each stored face is the mean of its embedding and its mirror image's: the sample
 * then sits between the two looks of the face, which names a person's later faces more often at the same
 * false-name rate (src/eval/README.md, "Enrolment with the mirror image"). Live faces are embedded once, as before.
 */
import type { RgbImage } from '../vision/types.js';
import { flipHorizontal } from '../vision/image.js';
import { FacegateError } from '../util/errors.js';
import { meanOfPair } from '../match/cosine.js';

/** Embeds aligned crops (the engine's embedAligned). */
export type EmbedAligned = (crops: RgbImage[]) => Promise<Float32Array[]>;

/**
 * Each face's embedding averaged with the embedding of its mirrored crop (one batch per crop size). Crops the
 * embedder does not take (not its aligned size: a snapshot kept under another model) are stored as given.
 */
export async function withMirrors<F extends { embedding: ArrayLike<number>; crop: RgbImage }>(faces: readonly F[], embed: EmbedAligned): Promise<F[]> {
  const bySize = new Map<string, number[]>();
  faces.forEach((f, i) => {
    const key = `${f.crop.width}x${f.crop.height}`;
    const group = bySize.get(key);
    if (group) group.push(i);
    else bySize.set(key, [i]);
  });
  const out = [...faces];
  for (const idx of bySize.values()) {
    let mirrored: Float32Array[];
    try {
      mirrored = await embed(idx.map((i) => flipHorizontal(faces[i]!.crop)));
    } catch (e) {
      if (e instanceof FacegateError && e.code === 'bad_crop') continue;
      throw e;
    }
    idx.forEach((i, k) => (out[i] = { ...faces[i]!, embedding: meanOfPair(faces[i]!.embedding, mirrored[k]!) }));
  }
  return out;
}

/** Embeddings of crops for the facebank (re-embedding): each crop and its mirror in one batch, averaged. */
export async function embedForFacebank(crops: RgbImage[], embed: EmbedAligned): Promise<Float32Array[]> {
  if (!crops.length) return [];
  const all = await embed([...crops, ...crops.map(flipHorizontal)]);
  return crops.map((_, i) => meanOfPair(all[i]!, all[crops.length + i]!));
}
