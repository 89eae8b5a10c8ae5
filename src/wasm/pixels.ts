/**
 * WebAssembly SIMD pixel kernels for the detector's hot path (AssemblyScript, built by `npm run build` into
 * dist/wasm/pixels.wasm; the loader and memory handling are in ../vision/pixel-arena.ts). Images are interleaved RGB
 * uint8 in this module's memory; each staged image is followed by at least 16 bytes of slack, since a pixel is
 * read as one 4-byte load.
 */

/**
 * Per-axis sampling table at `tab`: lo i32[n], hi i32[n], weight f32[n] (of hi). Pixel-centre alignment, as
 * cropResizeInto in ../vision/image.ts: output i samples start + (i + 0.5) * step - 0.5; more than half a pixel
 * outside the source gives lo = -1 (filled). Computed in f64 like the JavaScript version.
 */
@inline
function axisTable(tab: usize, start: f64, step: f64, n: i32, size: i32): void {
  for (let i = 0; i < n; i++) {
    const s: f64 = start + (<f64>i + 0.5) * step - 0.5;
    const p = tab + (<usize>i << 2);
    if (s < -0.5 || s > <f64>size - 0.5) {
      store<i32>(p, -1);
      continue;
    }
    const f = <i32>Math.floor(s);
    store<i32>(p, f < 0 ? 0 : f);
    store<i32>(p + (<usize>n << 2), f + 1 > size - 1 ? size - 1 : f + 1);
    store<f32>(p + (<usize>n << 3), f < 0 ? <f32>0 : <f32>(s - <f64>f));
  }
}

/** The RGB of one pixel as f32x4 lanes (the fourth lane is the next byte, unused). */
@inline
function pixel(p: usize): v128 {
  return f32x4.convert_i32x4_s(i32x4.extend_low_i16x8_u(i16x8.extend_low_i8x16_u(v128.load32_zero(p))));
}

/**
 * Bilinear crop-and-resize of the region (rx, ry, rw, rh) of the W x H image at `src` into outW x outH at
 * `dst`; samples outside the image get `fill`. `tab` is scratch for 12 * (outW + outH) bytes. The arithmetic
 * is f32 (the JavaScript version's is f64): a channel can differ from it by one level.
 */
export function crop(src: usize, W: i32, H: i32, rx: f64, ry: f64, rw: f64, rh: f64, outW: i32, outH: i32, dst: usize, fill: u8, tab: usize): void {
  const xt = tab;
  const yt = tab + <usize>outW * 12;
  axisTable(xt, rx, rw / <f64>outW, outW, W);
  axisTable(yt, ry, rh / <f64>outH, outH, H);
  const row = <usize>W * 3;
  const half = f32x4.splat(0.5);
  const zero = i16x8.splat(0);
  let o = dst;
  for (let j = 0; j < outH; j++) {
    const y0 = load<i32>(yt + (<usize>j << 2));
    if (y0 < 0) {
      memory.fill(o, fill, <usize>outW * 3);
      o += <usize>outW * 3;
      continue;
    }
    const r0 = src + <usize>y0 * row;
    const r1 = src + <usize>load<i32>(yt + (<usize>(outH + j) << 2)) * row;
    const wy = f32x4.splat(load<f32>(yt + (<usize>(2 * outH + j) << 2)));
    for (let i = 0; i < outW; i++) {
      const x0 = load<i32>(xt + (<usize>i << 2));
      if (x0 < 0) {
        store<u8>(o, fill);
        store<u8>(o, fill, 1);
        store<u8>(o, fill, 2);
        o += 3;
        continue;
      }
      const c0 = <usize>x0 * 3;
      const c1 = <usize>load<i32>(xt + (<usize>(outW + i) << 2)) * 3;
      const wx = f32x4.splat(load<f32>(xt + (<usize>(2 * outW + i) << 2)));
      const p00 = pixel(r0 + c0);
      const p10 = pixel(r1 + c0);
      const a = f32x4.add(p00, f32x4.mul(f32x4.sub(pixel(r0 + c1), p00), wx));
      const b = f32x4.add(p10, f32x4.mul(f32x4.sub(pixel(r1 + c1), p10), wx));
      const v = i32x4.trunc_sat_f32x4_s(f32x4.add(f32x4.add(a, f32x4.mul(f32x4.sub(b, a), wy)), half));
      const bytes = i32x4.extract_lane(i8x16.narrow_i16x8_u(i16x8.narrow_i32x4_u(v, v), zero), 0);
      store<u16>(o, <u16>bytes);
      store<u8>(o, <u8>(bytes >>> 16), 2);
      o += 3;
    }
  }
}

/** Halves the W x H image at `src` into `dst` by averaging 2x2 blocks (odd last row/column dropped). */
export function halve(src: usize, W: i32, H: i32, dst: usize): void {
  const w = W >> 1;
  const h = H >> 1;
  const row = <usize>W * 3;
  let o = dst;
  for (let y = 0; y < h; y++) {
    let p = src + <usize>(2 * y) * row;
    const end = p + <usize>w * 6;
    for (; p < end; p += 6) {
      const q = p + row;
      for (let c: usize = 0; c < 3; c++) {
        store<u8>(o + c, <u8>((<u32>load<u8>(p + c) + <u32>load<u8>(p + c + 3) + <u32>load<u8>(q + c) + <u32>load<u8>(q + c + 3) + 2) >> 2));
      }
      o += 3;
    }
  }
}

/**
 * The iw x ih image at `src` written into the top-left of W x H float planes, one per source channel (R at `pr`,
 * G at `pg`, B at `pb`), each value (pixel - mean) * scale of its channel; the rest of each plane gets what a
 * black pixel normalises to. Sixteen pixels a step: three 16-byte loads split into R, G and B by shuffles.
 */
export function planes(src: usize, iw: i32, ih: i32, W: i32, H: i32, pr: usize, pg: usize, pb: usize, mr: f32, mg: f32, mb: f32, sr: f32, sg: f32, sb: f32): void {
  const vmr = f32x4.splat(mr), vmg = f32x4.splat(mg), vmb = f32x4.splat(mb);
  const vsr = f32x4.splat(sr), vsg = f32x4.splat(sg), vsb = f32x4.splat(sb);
  const padR = (<f32>0 - mr) * sr, padG = (<f32>0 - mg) * sg, padB = (<f32>0 - mb) * sb;
  const wide = iw & ~15;
  for (let y = 0; y < H; y++) {
    const o = <usize>y * <usize>W << 2;
    let x = 0;
    if (y < ih) {
      let p = src + <usize>y * <usize>iw * 3;
      for (; x < wide; x += 16, p += 48) {
        const v0 = v128.load(p), v1 = v128.load(p, 16), v2 = v128.load(p, 32);
        const r = i8x16.shuffle(i8x16.shuffle(v0, v1, 0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0, 0, 0, 0, 0), v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 20, 23, 26, 29);
        const g = i8x16.shuffle(i8x16.shuffle(v0, v1, 1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 0, 0, 0, 0, 0), v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 18, 21, 24, 27, 30);
        const b = i8x16.shuffle(i8x16.shuffle(v0, v1, 2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0, 0, 0, 0, 0, 0), v2, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 19, 22, 25, 28, 31);
        const at = o + (<usize>x << 2);
        store16(pr + at, r, vmr, vsr);
        store16(pg + at, g, vmg, vsg);
        store16(pb + at, b, vmb, vsb);
      }
      for (; x < iw; x++, p += 3) {
        const at = o + (<usize>x << 2);
        store<f32>(pr + at, (<f32>load<u8>(p) - mr) * sr);
        store<f32>(pg + at, (<f32>load<u8>(p, 1) - mg) * sg);
        store<f32>(pb + at, (<f32>load<u8>(p, 2) - mb) * sb);
      }
    }
    for (; x < W; x++) {
      const at = o + (<usize>x << 2);
      store<f32>(pr + at, padR);
      store<f32>(pg + at, padG);
      store<f32>(pb + at, padB);
    }
  }
}

/** Sixteen bytes of one channel as floats, (v - mean) * scale, stored at `dst`. */
@inline
function store16(dst: usize, v: v128, mean: v128, scale: v128): void {
  const lo = i16x8.extend_low_i8x16_u(v);
  const hi = i16x8.extend_high_i8x16_u(v);
  v128.store(dst, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(lo)), mean), scale));
  v128.store(dst, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(lo)), mean), scale), 16);
  v128.store(dst, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_u(i32x4.extend_low_i16x8_u(hi)), mean), scale), 32);
  v128.store(dst, f32x4.mul(f32x4.sub(f32x4.convert_i32x4_u(i32x4.extend_high_i16x8_u(hi)), mean), scale), 48);
}

/** First free byte after the module's own data: the loader allocates from here. */
export function heapBase(): usize {
  return __heap_base;
}
