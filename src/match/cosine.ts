/** Cosine similarity of two vectors of any scale (0 when either is all zero). */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    d += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return d / (Math.sqrt(na * nb) || 1);
}

/**
 * The unit mean of two embeddings, each normalised first (equal weight whatever their scale). An embedding that
 * cannot be normalised (all zero, not finite) is returned as given, for the caller to refuse.
 */
export function meanOfPair(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  const norm = (v: ArrayLike<number>) => {
    let n = 0;
    for (let i = 0; i < v.length; i++) n += v[i]! * v[i]!;
    return n > 0 && Number.isFinite(n) ? 1 / Math.sqrt(n) : 0;
  };
  const [na, nb] = [norm(a), norm(b)];
  if (!na || !nb || a.length !== b.length) return Float32Array.from(a);
  const out = new Float32Array(a.length);
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    out[i] = a[i]! * na + b[i]! * nb;
    n += out[i]! * out[i]!;
  }
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  for (let i = 0; i < out.length; i++) out[i]! *= inv;
  return out;
}
