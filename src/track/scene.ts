/**
 * Scene-cut detection from a cheap global signature of a frame: a 4×4 grid of coarse colour histograms
 * (3 levels per channel, 27 bins per cell, every other pixel of every other row). Two frames of one shot differ
 * by a few hundredths (people moving, a slow pan); a cut to another shot or camera by 0.15 or more
 * (Hamilton clip, 5 frames/s: 0.16–0.21 at its cuts, at most 0.09 inside a shot).
 */
import type { RgbImage } from '../vision/types.js';

const GRID = 4;
const BINS = 27;

/** The frame's signature: GRID² cells × 27 bins, each cell's bins summing to 1. */
export function frameSignature(image: RgbImage): Float32Array {
  const { width: w, height: h, data } = image;
  const out = new Float32Array(GRID * GRID * BINS);
  for (let gy = 0; gy < GRID; gy++) {
    const y0 = Math.floor((gy * h) / GRID);
    const y1 = Math.floor(((gy + 1) * h) / GRID);
    for (let gx = 0; gx < GRID; gx++) {
      const x0 = Math.floor((gx * w) / GRID);
      const x1 = Math.floor(((gx + 1) * w) / GRID);
      const base = (gy * GRID + gx) * BINS;
      let n = 0;
      for (let y = y0; y < y1; y += 2) {
        for (let x = x0; x < x1; x += 2) {
          const i = (y * w + x) * 3;
          const bin = ((data[i]! * 3) >> 8) * 9 + ((data[i + 1]! * 3) >> 8) * 3 + ((data[i + 2]! * 3) >> 8);
          out[base + bin]! += 1;
          n++;
        }
      }
      if (n) for (let b = 0; b < BINS; b++) out[base + b]! /= n;
    }
  }
  return out;
}

/** Mean over the cells of half the L1 distance between histograms: 0 = same colour layout, 1 = nothing shared. */
export function signatureDistance(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length || !a.length) return 1;
  let d = 0;
  for (let i = 0; i < a.length; i++) d += Math.abs(a[i]! - b[i]!);
  return d / 2 / (a.length / BINS);
}
