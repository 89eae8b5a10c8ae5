/**
 * Agglomerative clustering with average linkage on cosine similarity (pure). Two clusters merge while the mean
 * similarity over all their cross pairs is at least `threshold`. O(n^2) memory; fine for a few thousand faces.
 */

export interface ClusterOptions {
  /** Smallest average cosine similarity between two clusters that still merges them. */
  threshold: number;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};
const norm = (a: ArrayLike<number>) => Math.sqrt(dot(a, a)) || 1;

/** Returns clusters as lists of input indices, largest first; within a cluster indices ascend. */
export function clusterEmbeddings(embeddings: ArrayLike<number>[], opts: ClusterOptions): number[][] {
  const n = embeddings.length;
  if (n === 0) return [];
  const dim = embeddings[0]!.length;
  for (const e of embeddings) if (e.length !== dim) throw new RangeError('embeddings differ in length');
  const norms = embeddings.map(norm);
  // sum[i][j]: sum of pairwise similarities between clusters i and j.
  const sum: Float64Array[] = embeddings.map(() => new Float64Array(n));
  for (let i = 0; i < n; i++)
    for (let j = i + 1; j < n; j++) {
      const s = dot(embeddings[i]!, embeddings[j]!) / (norms[i]! * norms[j]!);
      sum[i]![j] = s;
      sum[j]![i] = s;
    }
  const members: (number[] | null)[] = embeddings.map((_, i) => [i]);
  for (;;) {
    let best = -Infinity;
    let bi = -1;
    let bj = -1;
    for (let i = 0; i < n; i++) {
      const mi = members[i];
      if (!mi) continue;
      for (let j = i + 1; j < n; j++) {
        const mj = members[j];
        if (!mj) continue;
        const avg = sum[i]![j]! / (mi.length * mj.length);
        if (avg > best) {
          best = avg;
          bi = i;
          bj = j;
        }
      }
    }
    if (bi < 0 || best < opts.threshold) break;
    // Merge bj into bi: linkage sums add up.
    for (let k = 0; k < n; k++) {
      if (k === bi || k === bj || !members[k]) continue;
      sum[bi]![k]! += sum[bj]![k]!;
      sum[k]![bi] = sum[bi]![k]!;
    }
    members[bi] = [...members[bi]!, ...members[bj]!];
    members[bj] = null;
  }
  return members
    .filter((m): m is number[] => m !== null)
    .map((m) => m.sort((a, b) => a - b))
    .sort((a, b) => b.length - a.length || a[0]! - b[0]!);
}
