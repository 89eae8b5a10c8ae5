/**
 * The matcher's rows (unit vectors of size d): in the SIMD kernel's memory when it runs (match/simd.ts), else in a
 * plain array. Room grows in place as rows are added; dots(q, n) scores the first n rows in one pass.
 */
import { SimdDots } from './simd.js';

/** Dot product of a (length d) with row r of m. */
export function rowDot(m: Float32Array, r: number, a: Float32Array, d: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let o = r * d;
  let i = 0;
  for (; i + 3 < d; i += 4, o += 4) {
    s0 += m[o]! * a[i]!;
    s1 += m[o + 1]! * a[i + 1]!;
    s2 += m[o + 2]! * a[i + 2]!;
    s3 += m[o + 3]! * a[i + 3]!;
  }
  for (; i < d; i++, o++) s0 += m[o]! * a[i]!;
  return s0 + s1 + s2 + s3;
}

export class Rows {
  private plain: Float32Array;
  private sims: Float32Array;

  private constructor(
    private readonly simd: SimdDots | null,
    readonly d: number,
    capacity: number,
  ) {
    this.plain = simd ? new Float32Array(0) : new Float32Array(capacity * d);
    this.sims = simd ? new Float32Array(0) : new Float32Array(capacity);
  }

  /** Room for `capacity` rows of size d (d > 0). */
  static allocate(capacity: number, d: number): Rows {
    return new Rows(SimdDots.allocate(capacity, d), d, capacity);
  }

  get backend(): 'wasm-simd' | 'js' {
    return this.simd ? 'wasm-simd' : 'js';
  }

  /** The rows, capacity × d (a new view after grow()). */
  get matrix(): Float32Array {
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
    const plain = new Float32Array(capacity * this.d);
    plain.set(this.plain);
    this.plain = plain;
    this.sims = new Float32Array(capacity);
  }

  /** q (size d) against the first n rows: out[0..n), overwritten by the next call. */
  dots(q: Float32Array, n: number): Float32Array {
    if (this.simd) return this.simd.dots(q, n);
    for (let r = 0; r < n; r++) this.sims[r] = rowDot(this.plain, r, q, this.d);
    return this.sims;
  }
}
