/**
 * Row dot products with WebAssembly SIMD (f32x4): out[r] = Σ m[r·d + i] · q[i], for all rows at once.
 * The module is written out below as bytes (no toolchain). Needs d % 4 == 0; else callers use plain JS.
 */

const leb = (n: number): number[] => {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return out;
};
const section = (id: number, body: number[]) => [id, ...leb(body.length), ...body];

// Opcodes used.
const get = (i: number) => [0x20, i];
const set = (i: number) => [0x21, i];
const tee = (i: number) => [0x22, i];
const i32c = (v: number) => [0x41, v]; // small non-negative constants only (< 64)
const ADD = 0x6a;
const SHL = 0x74;
const EQZ = 0x45;
const LT_U = 0x49;
const F32_ADD = 0x92;
const V128_LOAD = [0xfd, 0x00, 0x02, 0x00];
const V128_ZERO = [0xfd, 0x0c, ...new Array<number>(16).fill(0)];
const F32X4_ADD = [0xfd, 0xe4, 0x01];
const F32X4_MUL = [0xfd, 0xe6, 0x01];
const lane = (k: number) => [0xfd, 0x1f, k];

// dots(m, q, out, n, d): params 0..4; locals 5 r, 6 i (bytes), 7 p (row ptr), 8 db (d·4), 9 acc (v128).
const code = [
  ...get(4), ...i32c(2), SHL, ...set(8),
  ...get(0), ...set(7),
  0x02, 0x40, // block
  ...get(3), EQZ, 0x0d, 0, // br_if exit
  0x03, 0x40, // loop rows
  ...V128_ZERO, ...set(9),
  ...i32c(0), ...set(6),
  0x03, 0x40, // loop inner
  ...get(9),
  ...get(7), ...get(6), ADD, ...V128_LOAD,
  ...get(1), ...get(6), ADD, ...V128_LOAD,
  ...F32X4_MUL, ...F32X4_ADD, ...set(9),
  ...get(6), ...i32c(16), ADD, ...tee(6), ...get(8), LT_U, 0x0d, 0,
  0x0b, // end inner
  ...get(2), ...get(5), ...i32c(2), SHL, ADD,
  ...get(9), ...lane(0), ...get(9), ...lane(1), F32_ADD, ...get(9), ...lane(2), F32_ADD, ...get(9), ...lane(3), F32_ADD,
  0x38, 0x02, 0x00, // f32.store
  ...get(7), ...get(8), ADD, ...set(7),
  ...get(5), ...i32c(1), ADD, ...tee(5), ...get(3), LT_U, 0x0d, 0,
  0x0b, // end rows
  0x0b, // end block
  0x0b, // end function
];
const body = [0x02, 0x04, 0x7f, 0x01, 0x7b, ...code];

const bytes = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
  ...section(1, [0x01, 0x60, 0x05, 0x7f, 0x7f, 0x7f, 0x7f, 0x7f, 0x00]),
  ...section(3, [0x01, 0x00]),
  ...section(5, [0x01, 0x00, 0x01]),
  ...section(7, [0x02, 0x03, 0x6d, 0x65, 0x6d, 0x02, 0x00, 0x04, 0x64, 0x6f, 0x74, 0x73, 0x00, 0x00]),
  ...section(10, [0x01, ...leb(body.length), ...body]),
]);

// The compiler's lib (ES2023 + node) has no WebAssembly types: the little used here, declared.
interface WasmMemory {
  buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmInstance {
  exports: Record<string, unknown>;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => WasmInstance;
}
const wasm = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;
function module(): object | null {
  if (compiled === undefined) {
    try {
      compiled = wasm ? new wasm.Module(bytes) : null;
    } catch {
      compiled = null;
    }
  }
  return compiled;
}

/** A matrix of n rows × d held in wasm memory; dots(q) gives all row products (a view, overwritten by the next call). */
export class SimdDots {
  private readonly run: (m: number, q: number, out: number, n: number, d: number) => void;
  private readonly q: Float32Array;
  private readonly out: Float32Array;
  private readonly qOff: number;
  private readonly outOff: number;

  private constructor(
    instance: WasmInstance,
    matrix: Float32Array,
    private readonly n: number,
    private readonly d: number,
  ) {
    const mem = instance.exports.mem as WasmMemory;
    const bytesNeeded = (n * d + d + n) * 4;
    const pages = Math.ceil(bytesNeeded / 65536);
    if (pages > 1) mem.grow(pages - 1);
    this.qOff = n * d * 4;
    this.outOff = this.qOff + d * 4;
    new Float32Array(mem.buffer, 0, n * d).set(matrix.subarray(0, n * d));
    this.q = new Float32Array(mem.buffer, this.qOff, d);
    this.out = new Float32Array(mem.buffer, this.outOff, n);
    this.run = instance.exports.dots as SimdDots['run'];
  }

  /** null when wasm SIMD is unavailable or d is not a multiple of 4. */
  static create(matrix: Float32Array, n: number, d: number): SimdDots | null {
    const mod = d > 0 && d % 4 === 0 ? module() : null;
    if (!mod) return null;
    return new SimdDots(new wasm!.Instance(mod), matrix, n, d);
  }

  dots(q: Float32Array): Float32Array {
    this.q.set(q);
    this.run(0, this.qOff, this.outOff, this.n, this.d);
    return this.out;
  }
}
