/**
 * Row dot products with WebAssembly SIMD (AssemblyScript, built by `npm run build` into dist/wasm/dots.wasm;
 * used by ../match/simd.ts): out[r] = sum over i of m[r * d + i] * q[i], for all n rows. d must be a multiple
 * of 4; `m`, `q` and `out` are byte offsets of f32 arrays in this module's memory.
 */
export function dots(m: usize, q: usize, out: usize, n: i32, d: i32): void {
  const bytes = <usize>d << 2;
  let row = m;
  for (let r = 0; r < n; r++) {
    let acc = f32x4.splat(0);
    for (let i: usize = 0; i < bytes; i += 16) acc = f32x4.add(acc, f32x4.mul(v128.load(row + i), v128.load(q + i)));
    store<f32>(out + (<usize>r << 2), f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3));
    row += bytes;
  }
}

/** First free byte after the module's own data. */
export function heapBase(): usize {
  return __heap_base;
}
