/**
 * Row dot products with WebAssembly SIMD (AssemblyScript, built by `npm run build` into dist/wasm/dots.wasm;
 * used by ../match/simd.ts). Rows and query are int16 fixed point (a unit vector's component x stored as
 * round(x * 32767)): out[r] = (sum over i of m[r * d + i] * q[i]) * scale, for all n rows, as f32.
 * d must be a multiple of 8; `m` and `q` are byte offsets of i16 arrays, `out` of an f32 array in this memory.
 * The int32 lanes cannot overflow for unit vectors: the sum of |q_i * m_i| is at most about 32767^2 < 2^31.
 */
export function dots(m: usize, q: usize, out: usize, n: i32, d: i32, scale: f32): void {
  const bytes = <usize>d << 1;
  let row = m;
  for (let r = 0; r < n; r++) {
    let acc = i32x4.splat(0);
    for (let i: usize = 0; i < bytes; i += 16) acc = i32x4.add(acc, i32x4.dot_i16x8_s(v128.load(row + i), v128.load(q + i)));
    const sum = i32x4.extract_lane(acc, 0) + i32x4.extract_lane(acc, 1) + i32x4.extract_lane(acc, 2) + i32x4.extract_lane(acc, 3);
    store<f32>(out + (<usize>r << 2), <f32>sum * scale);
    row += bytes;
  }
}

/** First free byte after the module's own data. */
export function heapBase(): usize {
  return __heap_base;
}
