/** LFW verification protocol maths: pairs.txt parsing, 10-fold threshold selection, TAR at a fixed FAR. */
import { cosine } from '../match/cosine.js';
import { FacegateError } from '../util/errors.js';

export interface Pair {
  a: string;
  b: string;
  same: boolean;
}

/** Relative image path of LFW person `name`, image number `n` (1-based). */
export const lfwImagePath = (name: string, n: number) => `lfw-deepfunneled/${name}/${name}_${String(n).padStart(4, '0')}.jpg`;

/** Parses pairs.txt: first line "<folds> <n>", then per fold n same lines "name i j" and n different lines "a i b j". */
export function parsePairs(text: string): Pair[][] {
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0);
  const head = (lines.shift() ?? '').split(/\s+/).map(Number);
  if (head.length !== 2 || !head.every((x) => Number.isInteger(x) && x > 0))
    throw new FacegateError('bad_pairs', `pairs.txt must start with "<folds> <pairs per half-fold>", got "${head.join(' ')}"`);
  const [nFolds, n] = head as [number, number];
  if (lines.length !== nFolds * n * 2) throw new FacegateError('bad_pairs', `pairs.txt announces ${nFolds}x${2 * n} pairs but holds ${lines.length} lines`);
  const folds: Pair[][] = [];
  let k = 0;
  for (let f = 0; f < nFolds; f++) {
    const fold: Pair[] = [];
    for (let i = 0; i < 2 * n; i++, k++) {
      const t = lines[k]!.split(/\s+/);
      if (t.length === 3) fold.push({ a: lfwImagePath(t[0]!, +t[1]!), b: lfwImagePath(t[0]!, +t[2]!), same: true });
      else if (t.length === 4) fold.push({ a: lfwImagePath(t[0]!, +t[1]!), b: lfwImagePath(t[2]!, +t[3]!), same: false });
      else throw new FacegateError('bad_pairs', `pairs.txt line ${k + 2} is neither "name i j" nor "name1 i name2 j"`);
    }
    folds.push(fold);
  }
  return folds;
}

/** Threshold t (predict "same" when score >= t) with the best accuracy on these scores; ties → midpoint of the widest gap. */
export function bestThreshold(scores: ArrayLike<number>, same: ArrayLike<boolean>): { threshold: number; accuracy: number } {
  const n = scores.length;
  const idx = Array.from({ length: n }, (_, i) => i).sort((i, j) => scores[i]! - scores[j]!);
  let pos = 0;
  for (let i = 0; i < n; i++) if (same[i]) pos++;
  // Threshold below everything: all predicted same → correct = pos.
  let correct = pos;
  let best = correct;
  let bestT = n ? scores[idx[0]!]! - 1e-6 : 0;
  for (let k = 0; k < n; k++) {
    // Move idx[k] to "different".
    correct += same[idx[k]!] ? -1 : 1;
    if (k + 1 < n && scores[idx[k + 1]!] === scores[idx[k]!]) continue;
    if (correct > best) {
      best = correct;
      bestT = k + 1 < n ? (scores[idx[k]!]! + scores[idx[k + 1]!]!) / 2 : scores[idx[k]!]! + 1e-6;
    }
  }
  return { threshold: bestT, accuracy: n ? best / n : 0 };
}

export interface FoldResult {
  accuracy: number;
  std: number;
  foldAccuracies: number[];
  thresholds: number[];
}

/** k-fold: threshold chosen on the other folds, accuracy measured on the held-out fold. */
export function kFoldAccuracy(foldScores: number[][], foldSame: boolean[][]): FoldResult {
  const accs: number[] = [];
  const ths: number[] = [];
  for (let f = 0; f < foldScores.length; f++) {
    const s: number[] = [];
    const l: boolean[] = [];
    for (let g = 0; g < foldScores.length; g++)
      if (g !== f) {
        s.push(...foldScores[g]!);
        l.push(...foldSame[g]!);
      }
    const { threshold } = bestThreshold(s, l);
    let ok = 0;
    foldScores[f]!.forEach((x, i) => (ok += x >= threshold === foldSame[f]![i] ? 1 : 0));
    accs.push(ok / foldScores[f]!.length);
    ths.push(threshold);
  }
  const mean = accs.reduce((a, b) => a + b, 0) / accs.length;
  const std = Math.sqrt(accs.reduce((a, b) => a + (b - mean) ** 2, 0) / accs.length);
  return { accuracy: mean, std, foldAccuracies: accs, thresholds: ths };
}

/**
 * True accept rate at a false accept rate: the threshold is the (k+1)-th highest different-pair score with
 * k = floor(far * negatives), a pair is accepted when its score is strictly above it.
 */
export function tarAtFar(scores: ArrayLike<number>, same: ArrayLike<boolean>, far: number): { tar: number; threshold: number; far: number } {
  const neg: number[] = [];
  const pos: number[] = [];
  for (let i = 0; i < scores.length; i++) (same[i] ? pos : neg).push(scores[i]!);
  if (!neg.length || !pos.length) return { tar: 0, threshold: 0, far: 0 };
  neg.sort((a, b) => b - a);
  const k = Math.min(Math.floor(far * neg.length), neg.length - 1);
  const threshold = neg[k]!;
  const tar = pos.filter((x) => x > threshold).length / pos.length;
  return { tar, threshold: threshold!, far: neg.filter((x) => x > threshold).length / neg.length };
}

export { cosine };
