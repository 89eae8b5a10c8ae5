import { describe, expect, it } from 'vitest';
import { nhwcToNchw } from '../../src/vision/tensor.js';

describe('nhwcToNchw', () => {
  const src = new Uint8Array([0, 0, 0, 10, 20, 30, 40, 50, 60]);

  it('writes planes in model channel order with per-channel mean and std', () => {
    const dst = new Float32Array(8).fill(-1);
    // BGR, mean/std given in B, G, R order: B (30-1)/1, (60-1)/1; G (20-2)/2, (50-2)/2; R (10-3)/4, (40-3)/4.
    nhwcToNchw(src, 3, 2, 1, dst, 1, { channelOrder: 'bgr', mean: [1, 2, 3], std: [1, 2, 4] });
    expect(Array.from(dst)).toEqual([-1, 29, 59, 9, 24, 1.75, 9.25, -1]);
  });

  it('keeps RGB order and refuses short buffers', () => {
    const dst = new Float32Array(6);
    nhwcToNchw(src, 3, 2, 1, dst, 0, { channelOrder: 'rgb', mean: [127.5, 127.5, 127.5], std: [128, 128, 128] });
    expect(Array.from(dst)).toEqual([10, 40, 20, 50, 30, 60].map((v) => Math.fround((v - 127.5) / 128)));
    expect(() => nhwcToNchw(src, 6, 2, 1, dst, 0, { channelOrder: 'rgb', mean: [0, 0, 0], std: [1, 1, 1] })).toThrow(/no 2x1 image/);
  });
});
