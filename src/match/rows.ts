/**
 * The matcher's rows: unit vectors of size d in int16 fixed point, in the SIMD kernel's memory when it runs
 * (match/simd.ts), else in a plain array. Room grows in place as rows are added; dots(q, n) scores the first n rows
 * in one pass.
 *
 * Fixed point: a component x of a unit vector is stored as round(x · 32767), and a similarity is the exact integer
 * dot product divided by 32767² (as float32). Half the bytes of float32 rows, so half the memory and half the
 * bytes a scan reads. Each rounding moves a component by at most 0.5 / 32767, so a similarity differs from the
 * float one by at most √d / 32767 (4.2e-4 at d = 192; see similarityErrorBound), and typically by about 1e-5.
 * The kernel and the plain-JS path compute the same integer sum, so they give the same float32 answers.
 */
import { SimdDots } from './simd.js';

/** The fixed-point value of 1. */
export const ONE = 32767;
const SCALE = Math.fround(1 / (ONE * ONE));

/** The most a fixed-point similarity of two unit vectors of size d can differ from the exact one. */
export function similarityErrorBound(d: number): number {
  return Math.sqrt(d) / ONE + d / (4 * ONE * ONE) + 1e-6;
}

/** Sum of squares of v (0 when not finite). */
export function norm2(v: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
  return Number.isFinite(n) ? n : 0;
}

/** Writes the first d values of v, L2-normalised, in fixed point at out[at..at+d) (v finite and not zero: the caller checks). */
export function writeFixedUnit(out: Int16Array, at: number, v: ArrayLike<number>, d: number): void {
  let n = 0;
  for (let i = 0; i < d; i++) n += v[i]! * v[i]!;
  const k = ONE / Math.sqrt(n);
  for (let i = 0; i < d; i++) out[at + i] = Math.round(v[i]! * k);
}

/** v (size d, finite and not zero) as a fixed-point unit vector. */
export function fixedUnit(v: ArrayLike<number>): Int16Array {
  const out = new Int16Array(v.length);
  writeFixedUnit(out, 0, v, v.length);
  return out;
}

/** Similarity of row r of m with q (both fixed point, size d): the same float32 number the kernel gives. */
export function rowDot(m: Int16Array, r: number, q: Int16Array, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let o = r * d;
  let i = 0;
  for (; i + 1 < d; i += 2, o += 2) {
    s0 += m[o]! * q[i]!;
    s1 += m[o + 1]! * q[i + 1]!;
  }
  for (; i < d; i++, o++) s0 += m[o]! * q[i]!;
  // Integers below 2^31: exact in any order, as the kernel's int32 lanes.
  return Math.fround(Math.fround(s0 + s1) * SCALE);
}

export class Rows {
  private plain: Int16Array;
  private sims: Float32Array;

  private constructor(
    private readonly simd: SimdDots | null,
    readonly d: number,
    capacity: number,
  ) {
    this.plain = simd ? new Int16Array(0) : new Int16Array(capacity * d);
    this.sims = simd ? new Float32Array(0) : new Float32Array(capacity);
  }

  /** Room for `capacity` rows of size d (d > 0). */
  static allocate(capacity: number, d: number): Rows {
    return new Rows(SimdDots.allocate(capacity, d), d, capacity);
  }

  get backend(): 'wasm-simd' | 'js' {
    return this.simd ? 'wasm-simd' : 'js';
  }

  /** The rows, capacity × d, fixed point (a new view after grow()). */
  get matrix(): Int16Array {
    return this.simd ? this.simd.matrix : this.plain;
  }

  get capacity(): number {
    return this.simd ? this.simd.capacity : this.sims.length;
  }

  /** Room for at least `rows` rows (about an eighth more, so growing is rare); rows written stay. */
  ensure(rows: number): void {
    if (rows <= this.capacity) return;
    const capacity = Math.max(rows, Math.ceil(this.capacity * 1.125) + 16);
    if (this.simd) return this.simd.grow(capacity);
    const plain = new Int16Array(capacity * this.d);
    plain.set(this.plain);
    this.plain = plain;
    this.sims = new Float32Array(capacity);
  }

  /** q (fixed point, size d) against the first n rows: similarities in out[0..n), overwritten by the next call. */
  dots(q: Int16Array, n: number): Float32Array {
    if (this.simd) return this.simd.dots(q, n, SCALE);
    for (let r = 0; r < n; r++) this.sims[r] = rowDot(this.plain, r, q, this.d);
    return this.sims;
  }
}
