/**
 * Row dot products with WebAssembly SIMD (i32x4.dot_i16x8_s) over int16 fixed-point rows (see rows.ts). The kernel
 * is src/wasm/dots.ts, built into dist/wasm/dots.wasm. Needs d % 8 == 0; else callers use plain JS.
 */
import { heapStart, instantiateWasm, reserve, type WasmMemory } from '../util/wasm.js';

interface DotsKernel {
  memory: WasmMemory;
  dots: (m: number, q: number, out: number, n: number, d: number, scale: number) => void;
  heapBase(): number;
}

/**
 * Room for `capacity` int16 rows × d in wasm memory; dots(q, n) gives the products of the first n rows times `scale`
 * (a view, overwritten by the next call). `matrix` is that memory itself: the caller fills it in place, so the
 * rows are held once. grow() adds room in place (the rows stay where they are; `matrix` is then a new view).
 */
export class SimdDots {
  /** The capacity × d rows, in wasm memory. */
  matrix!: Int16Array;
  capacity = 0;
  private q!: Int16Array;
  private out!: Float32Array;
  private qOff = 0;
  private outOff = 0;
  private readonly mOff: number;

  private constructor(
    private readonly k: DotsKernel,
    capacity: number,
    private readonly d: number,
  ) {
    this.mOff = heapStart(k);
    this.grow(capacity);
  }

  /** Room for n × d rows; null when d is not a multiple of 8 (or WebAssembly is unavailable). */
  static allocate(n: number, d: number): SimdDots | null {
    if (!(d > 0 && d % 8 === 0)) return null;
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
  static create(matrix: Int16Array, n: number, d: number): SimdDots | null {
    const s = SimdDots.allocate(n, d);
    s?.matrix.set(matrix.subarray(0, n * d));
    return s;
  }

  /** Room for `capacity` rows; the rows already written keep their place. The query and output follow the rows. */
  grow(capacity: number): void {
    if (capacity < this.capacity) return;
    const { d, k } = this;
    // d % 8 == 0, so every region starts 16-byte aligned.
    this.qOff = this.mOff + capacity * d * 2;
    this.outOff = this.qOff + d * 2;
    reserve(k.memory, this.outOff + capacity * 4);
    // Growing detaches the old views; these stay valid until the next grow.
    this.matrix = new Int16Array(k.memory.buffer, this.mOff, capacity * d);
    this.q = new Int16Array(k.memory.buffer, this.qOff, d);
    this.out = new Float32Array(k.memory.buffer, this.outOff, capacity);
    this.capacity = capacity;
  }

  /** Products of q with the first n rows (all of them by default), times `scale`, in out[0..n). */
  dots(q: Int16Array, n = this.capacity, scale = 1): Float32Array {
    this.q.set(q);
    this.k.dots(this.mOff, this.qOff, this.outOff, n, this.d, scale);
    return this.out;
  }
}
