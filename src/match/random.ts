/** Seeded random unit vectors for tests and benchmarks (mulberry32 + Box–Muller). */

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomUnit(dim: number, rand: () => number): Float32Array {
  const v = new Float64Array(dim);
  let n = 0;
  for (let i = 0; i < dim; i++) {
    const g = Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
    v[i] = g;
    n += g * g;
  }
  const inv = 1 / Math.sqrt(n);
  return Float32Array.from(v, (x) => x * inv);
}

/** A unit vector whose cosine with unit `base` is exactly `cos` (up to float rounding). */
export function unitWithCosine(base: Float32Array, cos: number, rand: () => number): Float32Array {
  const r = randomUnit(base.length, rand);
  let d = 0;
  for (let i = 0; i < base.length; i++) d += r[i]! * base[i]!;
  // Component of r orthogonal to base, normalised.
  const o = new Float64Array(base.length);
  let n = 0;
  for (let i = 0; i < base.length; i++) {
    o[i] = r[i]! - d * base[i]!;
    n += o[i]! * o[i]!;
  }
  const s = Math.sqrt(Math.max(0, 1 - cos * cos)) / Math.sqrt(n);
  return Float32Array.from(base, (b, i) => cos * b + s * o[i]!);
}
