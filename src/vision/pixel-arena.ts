/**
 * The detector's pixel work in WebAssembly SIMD: kernels in src/wasm/pixels.ts, built by `npm run build` into
 * dist/wasm/pixels.wasm. On this project's 2-core x86 VM they crop R-Net's 24x24 inputs about 5x faster than
 * the JavaScript cropResizeInto (image.ts), which stays the reference they are tested against. (The alignment
 * warp stays in JavaScript: the same kernel in WebAssembly was no faster.)
 *
 * A PixelArena holds images copied into one kernel instance's memory for the length of one call
 * (`withPixelArena`); concurrent calls take different instances, so they never see each other's memory.
 */
import { FacegateError } from '../util/errors.js';
import { heapStart, instantiateWasm, reserve, type WasmMemory } from '../util/wasm.js';
import { checkDst, checkImage, type Rect } from './image.js';
import type { Normalisation } from './tensor.js';
import type { RgbImage } from './types.js';

interface Kernels {
  memory: WasmMemory;
  crop(
    src: number,
    w: number,
    h: number,
    rx: number,
    ry: number,
    rw: number,
    rh: number,
    outW: number,
    outH: number,
    dst: number,
    fill: number,
    tab: number,
  ): void;
  halve(src: number, w: number, h: number, dst: number): void;
  planes(
    src: number,
    iw: number,
    ih: number,
    w: number,
    h: number,
    pr: number,
    pg: number,
    pb: number,
    mr: number,
    mg: number,
    mb: number,
    sr: number,
    sg: number,
    sb: number,
  ): void;
  heapBase(): number;
}

/** Bytes after each image: a pixel is read as one 4-byte load. */
const SLACK = 16;
/** An idle instance whose memory grew past this (after a very large image) is dropped, not kept. */
const KEEP_BYTES = 64 << 20;
const align16 = (n: number) => (n + 15) & ~15;

const idle: Kernels[] = [];

/** An image held in an arena (valid until the arena's call ends). */
export interface StagedImage {
  readonly width: number;
  readonly height: number;
  readonly ptr: number;
}

export class PixelArena {
  private top: number;
  private open = true;

  constructor(private readonly k: Kernels) {
    this.top = heapStart(k);
  }

  /** Copies `img` into the arena. */
  stage(img: RgbImage): StagedImage {
    checkImage(img);
    const n = img.width * img.height * 3;
    const ptr = this.alloc(n + SLACK);
    this.bytes(ptr, n).set(img.data.subarray(0, n));
    return { width: img.width, height: img.height, ptr };
  }

  /** `s` halved by 2x2 box averaging (odd last row/column dropped). */
  halve(s: StagedImage): StagedImage {
    const width = s.width >> 1;
    const height = s.height >> 1;
    if (width < 1 || height < 1) throw new FacegateError('bad_image', `A ${s.width}x${s.height} image cannot be halved.`);
    const ptr = this.alloc(width * height * 3 + SLACK);
    this.k.halve(s.ptr, s.width, s.height, ptr);
    return { width, height, ptr };
  }

  /**
   * Bilinear crop-and-resize of `rect` (may extend past the image; samples outside get `fill`) into an
   * `outW`x`outH` NHWC uint8 slot of `dst` at element `offset`: cropResizeInto's sampling, in f32 arithmetic
   * (a channel may differ from it by one level).
   */
  cropInto(s: StagedImage, rect: Rect, outW: number, outH: number, dst: Uint8Array, offset = 0, fill = 0): void {
    if (!(Number.isInteger(outW) && Number.isInteger(outH) && outW > 0 && outH > 0)) {
      throw new FacegateError('bad_size', `Crop size ${outW}x${outH} is not a positive integer size.`);
    }
    checkDst(dst, offset, outW * outH * 3);
    if (![rect.x, rect.y, rect.w, rect.h].every(Number.isFinite) || !(rect.w > 0 && rect.h > 0)) {
      throw new FacegateError('bad_box', `Crop region ${rect.w}x${rect.h} at (${rect.x}, ${rect.y}) is empty or not finite.`);
    }
    const mark = this.top;
    const tab = this.alloc(12 * (outW + outH));
    const n = outW * outH * 3;
    const out = this.alloc(n + SLACK);
    this.k.crop(s.ptr, s.width, s.height, rect.x, rect.y, rect.w, rect.h, outW, outH, out, fill & 255, tab);
    dst.set(this.bytes(out, n), offset);
    this.top = mark;
  }

  /** Room for `n` floats (16-byte aligned); read them with floats() once the call's last allocation is made. */
  allocFloats(n: number): number {
    return this.alloc(n * 4);
  }

  /**
   * `s` written normalised into the top-left of a W x H planar (CHW) float slot at `ptr` (from allocFloats), the
   * rest of the slot what a black pixel normalises to: imageToNchw (tensor.ts) in SIMD, with f32 arithmetic.
   */
  planesInto(s: StagedImage, W: number, H: number, ptr: number, norm: Normalisation): void {
    if (s.width > W || s.height > H) throw new FacegateError('bad_size', `A ${s.width}x${s.height} image does not fit a ${W}x${H} input unscaled.`);
    const n = W * H * 4;
    const bgr = norm.channelOrder === 'bgr';
    // Plane k holds model channel k; mean/std are in model order, re-keyed here by source (RGB) channel.
    const [r, g, b] = bgr ? [2, 1, 0] : [0, 1, 2];
    const m = norm.mean,
      d = norm.std;
    this.k.planes(s.ptr, s.width, s.height, W, H, ptr + r * n, ptr + g * n, ptr + b * n, m[r]!, m[g]!, m[b]!, 1 / d[r]!, 1 / d[g]!, 1 / d[b]!);
  }

  /** A view of `n` floats at `ptr`: valid until the arena next grows (any allocation may) or closes. */
  floats(ptr: number, n: number): Float32Array {
    if (!this.open) throw new FacegateError('arena_closed', 'This pixel arena has been released.');
    return new Float32Array(this.k.memory.buffer, ptr, n);
  }

  /** Ends the arena's use (withPixelArena calls this); its staged images are gone. */
  close(): void {
    this.open = false;
  }

  private alloc(n: number): number {
    if (!this.open) throw new FacegateError('arena_closed', 'This pixel arena has been released.');
    const ptr = this.top;
    this.top = align16(ptr + n);
    reserve(this.k.memory, this.top);
    return ptr;
  }

  private bytes(ptr: number, n: number): Uint8Array {
    return new Uint8Array(this.k.memory.buffer, ptr, n);
  }
}

/** Runs `fn` with an arena of its own, released (and its kernel instance reused) when `fn` settles. */
export async function withPixelArena<T>(fn: (arena: PixelArena) => Promise<T>): Promise<T> {
  const k = idle.pop() ?? instantiateWasm<Kernels>('pixels');
  const arena = new PixelArena(k);
  try {
    return await fn(arena);
  } finally {
    arena.close();
    if (k.memory.buffer.byteLength <= KEEP_BYTES) idle.push(k);
  }
}
