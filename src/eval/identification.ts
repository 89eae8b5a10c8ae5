/**
 * Open-set (1:N) identification maths, in the style of the MegaFace/IJB protocols. Each probe is matched against
 * a gallery; a mated probe's identity is enrolled, a non-mated probe's is not. The matcher names the top
 * candidate when its similarity reaches the threshold and the margin rule holds, so per probe only three facts
 * matter: whether the top candidate is the right person, its similarity, and whether the margin rule let it
 * through (the margin rule does not depend on the threshold).
 * - rank-1: share of mated probes whose top candidate is right (closed set, no threshold).
 * - FPIR(t): share of non-mated probes named (anyone) at threshold t.
 * - DIR(t): share of mated probes named, and named right, at threshold t.
 * The threshold for a target FPIR f is the lowest that names at most floor(f × non-mated) non-mated probes.
 */

export interface ProbeOutcome {
  /** The probe's identity is in the gallery. */
  mated: boolean;
  /** The top-ranked gallery identity is the probe's own (always false for non-mated probes). */
  right: boolean;
  /** Similarity of the top-ranked identity; -1 when the gallery is empty. */
  similarity: number;
  /** The margin rule (and negatives) would let the top candidate be named at a low enough threshold. */
  nameable: boolean;
}

export interface OperatingPoint {
  /** Target false-positive identification rate. */
  fpir: number;
  /** Lowest threshold whose measured FPIR is ≤ the target. */
  threshold: number;
  /** FPIR measured at that threshold. */
  measuredFpir: number;
  /** Detection and identification rate at that threshold. */
  dir: number;
  /** FPIR on the odd-numbered non-mated probes at the threshold chosen on the even-numbered ones (held out). */
  heldOutFpir: number;
}

export interface AtThreshold {
  threshold: number;
  fpir: number;
  dir: number;
}

export interface IdentificationResult {
  mated: number;
  nonMated: number;
  rank1: number;
  points: OperatingPoint[];
  /** FPIR and DIR at a given threshold (e.g. the shipped rule's for this gallery size). */
  at?: AtThreshold;
}

/** Smallest float above x (thresholds are "named when similarity ≥ t"). */
const above = (x: number) => x + Math.max(1e-7, Math.abs(x) * 1e-7);

/** Threshold giving FPIR ≤ fpir over the non-mated probes' outcomes. */
export function thresholdAtFpir(nonMated: readonly ProbeOutcome[], fpir: number): number {
  const scores = nonMated
    .filter((p) => p.nameable)
    .map((p) => p.similarity)
    .sort((a, b) => b - a);
  const k = Math.floor(fpir * nonMated.length);
  return k < scores.length ? above(scores[k]!) : -1;
}

/** FPIR and DIR at threshold t. */
export function atThreshold(probes: readonly ProbeOutcome[], t: number): AtThreshold {
  const named = (p: ProbeOutcome) => p.nameable && p.similarity >= t;
  const mated = probes.filter((p) => p.mated);
  const non = probes.filter((p) => !p.mated);
  return {
    threshold: t,
    fpir: non.length ? non.filter(named).length / non.length : 0,
    dir: mated.length ? mated.filter((p) => named(p) && p.right).length / mated.length : 0,
  };
}

/** rank-1, and DIR at each target FPIR with its threshold; with `at`, also FPIR and DIR at that threshold. */
export function identification(probes: readonly ProbeOutcome[], fpirs: readonly number[], at?: number): IdentificationResult {
  const mated = probes.filter((p) => p.mated);
  const non = probes.filter((p) => !p.mated);
  const even = non.filter((_, i) => i % 2 === 0);
  const odd = non.filter((_, i) => i % 2 === 1);
  const rank1 = mated.length ? mated.filter((p) => p.right).length / mated.length : 0;
  const points = fpirs.map((fpir) => {
    const threshold = thresholdAtFpir(non, fpir);
    const r = atThreshold(probes, threshold);
    return { fpir, threshold, measuredFpir: r.fpir, dir: r.dir, heldOutFpir: atThreshold(odd, thresholdAtFpir(even, fpir)).fpir };
  });
  return { mated: mated.length, nonMated: non.length, rank1, points, ...(at === undefined ? {} : { at: atThreshold(probes, at) }) };
}
