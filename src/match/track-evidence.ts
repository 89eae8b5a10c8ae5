/**
 * A track named from all its evidence: its key faces (different looks of one person, see track/keys.ts) are
 * averaged into one direction, and a person's score for the track is the cosine of that direction to their best
 * sample. Faces that agree pull the mean one way; averaging cancels what each face alone gets wrong (pose, light),
 * so a mated track moves toward its person while a stranger's stays as far from everyone. Measured on LFW this names
 * more people at the same false-name rate than the mean of the faces' similarities (src/eval/README.md). The top
 * person is named when the score reaches the track threshold and the matcher's margin rule holds.
 */
import type { Candidate, Matcher, MatchReason } from './matcher.js';

export interface TrackFace {
  /** A face embedding (normalised here). */
  embedding: Float32Array;
  /** Quality weight, > 0. */
  weight: number;
}

export interface TrackEvidence {
  /** The top-ranked person for the track, named or not. */
  candidate: Candidate | null;
  secondBest: Candidate | null;
  /** Cosine of the track's mean face direction to the candidate; -1 with nobody enrolled or no faces. */
  similarity: number;
  /** The margin rule (and negatives) let the candidate through; the threshold is not applied. */
  nameable: boolean;
  /** Named at `threshold`: nameable and similarity ≥ threshold. */
  named: boolean;
  reason: MatchReason;
  faces: number;
  /** The threshold the track was judged at. */
  threshold: number;
  /**
   * The same threshold on its faces' own scale: what their mean similarity had to reach (the threshold times the
   * length of their mean; faces that differ make a shorter mean). The tracker holds later faces to it.
   */
  faceThreshold: number;
}

/** Weighted mean of the unit vectors of `faces` (not normalised: its length says how alike the faces are). */
export function meanOfUnits(faces: readonly TrackFace[]): Float32Array | null {
  if (!faces.length) return null;
  const d = faces[0]!.embedding.length;
  const m = new Float64Array(d);
  let total = 0;
  for (const f of faces) {
    if (f.embedding.length !== d || !(f.weight > 0)) continue;
    let n = 0;
    for (let i = 0; i < d; i++) n += f.embedding[i]! * f.embedding[i]!;
    if (!(n > 0) || !Number.isFinite(n)) continue;
    const s = f.weight / Math.sqrt(n);
    for (let i = 0; i < d; i++) m[i]! += f.embedding[i]! * s;
    total += f.weight;
  }
  return total > 0 ? Float32Array.from(m, (x) => x / total) : null;
}

export function trackEvidence(matcher: Matcher, faces: readonly TrackFace[], threshold = -1): TrackEvidence {
  const m = meanOfUnits(faces);
  const none: TrackEvidence = {
    candidate: null,
    secondBest: null,
    similarity: -1,
    nameable: false,
    named: false,
    reason: 'empty',
    faces: faces.length,
    threshold,
    faceThreshold: threshold,
  };
  if (!m || matcher.size === 0) return none;
  let len = 0;
  for (const x of m) len += x * x;
  len = Math.sqrt(len);
  if (!(len > 0)) return none;
  // The matcher normalises its query: the mean's direction is what it scores (a cosine).
  const r = matcher.match(m, threshold);
  const similarity = r.candidate ? r.candidate.similarity : -1;
  const nameable = r.reason === 'match' || (r.reason === 'below-threshold' && (!r.secondBest || r.score - r.secondBest.score >= matcher.options.margin));
  return {
    candidate: r.candidate,
    secondBest: r.secondBest,
    similarity,
    nameable,
    named: r.reason === 'match',
    reason: r.reason,
    faces: faces.length,
    threshold,
    faceThreshold: threshold <= -1 ? threshold : threshold * len,
  };
}
