import { describe, expect, it } from 'vitest';
import { withMirrors } from '../../src/enrol/mirror.js';
import { meanOfPair } from '../../src/match/cosine.js';
import { FacegateError } from '../../src/util/errors.js';
import type { RgbImage } from '../../src/vision/types.js';

const crop = (size: number): RgbImage => ({ width: size, height: size, data: new Uint8Array(size * size * 3) });

describe('enrolment with the mirror image', () => {
  it('averages each face with its mirror, and stores as given a crop the embedder does not take', async () => {
    const seen: number[] = [];
    // Stands in for the embedder's input check: it takes 112 x 112 crops only.
    const embed = async (crops: RgbImage[]) => {
      if (crops.some((c) => c.width !== 112)) throw new FacegateError('bad_crop', 'aligned crop 0 is 150x150, the embedder takes 112x112');
      seen.push(crops.length);
      return crops.map(() => Float32Array.of(0, 1));
    };
    const faces = [
      { embedding: Float32Array.of(1, 0), crop: crop(112) },
      { embedding: Float32Array.of(2, 0), crop: crop(150) },
      { embedding: Float32Array.of(0, 3), crop: crop(112) },
    ];
    const out = await withMirrors(faces, embed);
    expect(seen).toEqual([2]); // one batch for the two aligned crops
    expect(Array.from(out[0]!.embedding)).toEqual([Math.SQRT1_2, Math.SQRT1_2].map((x) => Math.fround(x)));
    expect(out[1]!.embedding).toBe(faces[1]!.embedding);
    expect(Array.from(out[2]!.embedding)).toEqual([0, 1]);
  });

  it('leaves an embedding that cannot be normalised as it is, for the facebank to refuse', () => {
    expect(Array.from(meanOfPair([0, 0], [0, 1]))).toEqual([0, 0]);
    expect(Array.from(meanOfPair([3, 4], [0, 0]))).toEqual([3, 4]);
  });

  it('passes other failures on', async () => {
    const broken = async () => {
      throw new FacegateError('engine_closed', 'the face engine has been closed');
    };
    await expect(withMirrors([{ embedding: [1, 0], crop: crop(112) }], broken)).rejects.toMatchObject({ code: 'engine_closed' });
  });
});
