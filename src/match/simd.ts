/**
 * Row dot products with WebAssembly SIMD (f32x4): out[r] = Σ m[r·d + i] · q[i], for all rows at once. The kernel
 * is src/wasm/dots.ts, built into dist/wasm/dots.wasm. Needs d % 4 == 0; else callers use plain JS.
 */
import { heapStart, instantiateWasm, reserve, type WasmMemory } from '../util/wasm.js';

interface DotsKernel {
  memory: WasmMemory;
  dots: (m: number, q: number, out: number, n: number, d: number) => void;
  heapBase(): number;
}

/**
 * A matrix of n rows × d held in wasm memory; dots(q) gives all row products (a view, overwritten by the next call).
 * `matrix` is that memory itself: the caller fills it in place, so the rows are held once.
 */
export class SimdDots {
  /** The n × d rows, in wasm memory: fill before the first dots(). */
  readonly matrix: Float32Array;
  private readonly run: (m: number, q: number, out: number, n: number, d: number) => void;
  private readonly q: Float32Array;
  private readonly out: Float32Array;
  private readonly qOff: number;
  private readonly outOff: number;
  private readonly mOff: number;

  private constructor(
    k: DotsKernel,
    private readonly n: number,
    private readonly d: number,
  ) {
    this.mOff = heapStart(k);
    this.qOff = this.mOff + n * d * 4;
    this.outOff = this.qOff + d * 4;
    reserve(k.memory, this.outOff + n * 4);
    // The memory does not grow after this, so these views stay valid.
    this.matrix = new Float32Array(k.memory.buffer, this.mOff, n * d);
    this.q = new Float32Array(k.memory.buffer, this.qOff, d);
    this.out = new Float32Array(k.memory.buffer, this.outOff, n);
    this.run = k.dots;
  }

  /** An n × d matrix to fill; null when d is not a multiple of 4 (or WebAssembly is unavailable). */
  static allocate(n: number, d: number): SimdDots | null {
    if (!(d > 0 && d % 4 === 0)) return null;
    let k: DotsKernel;
    try {
      k = instantiateWasm<DotsKernel>('dots');
    } catch (e) {
      if ((e as { code?: string }).code === 'wasm_unavailable') return null;
      throw e;
    }
    return new SimdDots(k, n, d);
  }

  /** A copy of `matrix` (n × d) in wasm memory; null as allocate(). */
  static create(matrix: Float32Array, n: number, d: number): SimdDots | null {
    const s = SimdDots.allocate(n, d);
    s?.matrix.set(matrix.subarray(0, n * d));
    return s;
  }

  dots(q: Float32Array): Float32Array {
    this.q.set(q);
    this.run(this.mOff, this.qOff, this.outOff, this.n, this.d);
    return this.out;
  }
}
