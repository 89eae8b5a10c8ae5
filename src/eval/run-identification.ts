/**
 * `facegate eval identification`: open-set 1:N identification on LFW through the full pipeline (detect, align,
 * embed, and the matcher with its margin rule). Gallery: the first image of each of N identities with two or more
 * images; mated probes: up to MATED_PER_ID of their other images; non-mated probes: the identities with one image
 * (never enrolled). Small galleries are drawn several times (seeded) and the probes pooled. Maths: identification.ts.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { FaceEngine } from '../engine/types.js';
import { identificationThreshold } from '../match/thresholds.js';
import { Matcher } from '../match/matcher.js';
import { rng } from '../match/random.js';
import type { Person, Sample } from '../store/types.js';
import { FacegateError } from '../util/errors.js';
import { identification, type IdentificationResult, type ProbeOutcome } from './identification.js';
import { embedImages } from './run.js';

export const MATED_PER_ID = 4;
export const DEFAULT_FPIRS = [1e-1, 1e-2, 1e-3];

export interface IdentificationSize extends IdentificationResult {
  /** Gallery size N (identities enrolled, one image each). */
  size: number;
  /** Random galleries drawn and pooled. */
  trials: number;
}

export interface IdentificationReport {
  identities: number;
  nonMatedIdentities: number;
  images: number;
  noFace: number;
  margin: number;
  /** The FPIR the shipped rule's thresholds (`at` per size) are for; null when the embedder has no rule. */
  ruleFpir: number | null;
  sizes: IdentificationSize[];
  seconds: number;
  detectorId: string;
  embedderId: string;
}

export interface IdentificationOptions {
  /** Gallery sizes; 'all' = every identity with two or more images. */
  sizes?: (number | 'all')[];
  fpirs?: number[];
  margin: number;
  /** Also measure at the shipped rule's threshold for this FPIR (match.targetFpir). */
  targetFpir?: number;
  /** Use only the first N identities with several images (and as many single-image ones, times MATED_PER_ID). */
  limitIdentities?: number;
  seed?: number;
  progress?: (done: number, total: number) => void;
}

/** LFW's folder: person → its image paths (relative to dataDir), sorted. */
function listIdentities(dataDir: string): Map<string, string[]> {
  const root = path.join(dataDir, 'lfw-deepfunneled');
  let names: string[];
  try {
    names = readdirSync(root).sort();
  } catch {
    throw new FacegateError('not_found', `LFW folder ${root} not found`);
  }
  const out = new Map<string, string[]>();
  for (const n of names) {
    let files: string[];
    try {
      files = readdirSync(path.join(root, n))
        .filter((f) => /\.jpe?g$/i.test(f))
        .sort();
    } catch {
      continue;
    }
    if (files.length)
      out.set(
        n,
        files.map((f) => path.join('lfw-deepfunneled', n, f)),
      );
  }
  if (!out.size) throw new FacegateError('not_found', `LFW folder ${root} holds no images`);
  return out;
}

/** Seeded choice of k of n indices. */
function choose(n: number, k: number, rand: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (n - i));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a.slice(0, k);
}

export async function evalIdentification(engine: FaceEngine, dataDir: string, opts: IdentificationOptions): Promise<IdentificationReport> {
  const t0 = Date.now();
  const ids = listIdentities(dataDir);
  let multi = [...ids].filter(([, f]) => f.length >= 2);
  let single = [...ids].filter(([, f]) => f.length === 1);
  if (opts.limitIdentities) {
    multi = multi.slice(0, opts.limitIdentities);
    single = single.slice(0, opts.limitIdentities * MATED_PER_ID);
  }
  if (multi.length < 2) throw new FacegateError('invalid', `LFW folder ${dataDir} has fewer than 2 people with two or more images`);
  const files = [...multi.flatMap(([, f]) => f.slice(0, 1 + MATED_PER_ID)), ...single.map(([, f]) => f[0]!)];
  const { emb, noFace } = await embedImages(engine, dataDir, files, { progress: opts.progress });
  const fpirs = opts.fpirs ?? DEFAULT_FPIRS;
  const rand = rng(opts.seed ?? 1);
  const sizes = [...new Set((opts.sizes ?? [10, 100, 1000, 'all']).map((s) => (s === 'all' ? multi.length : s)).filter((s) => s <= multi.length))].sort(
    (a, b) => a - b,
  );
  const out: IdentificationSize[] = [];
  for (const size of sizes) {
    const trials = size >= multi.length ? 1 : size <= 100 ? 10 : 3;
    const outcomes: ProbeOutcome[] = [];
    for (let k = 0; k < trials; k++) {
      const chosen = choose(multi.length, size, rand).map((i) => multi[i]!);
      const people: Person[] = chosen.map(([name]) => ({ id: name, name, created: '', notes: '' }));
      const samples: Sample[] = chosen.map(([name, f]) => ({
        id: f[0]!,
        personId: name,
        embedding: Float32Array.from(emb.get(f[0]!)!),
        modelId: engine.embedderId,
        quality: { size: 0, score: 0, blur: 0, yaw: 0, pitch: 0, roll: 0 },
        source: 'cli',
        created: '',
        negative: false,
      }));
      // Threshold -1: every probe the margin rule lets through is named; the threshold is applied afterwards.
      const matcher = new Matcher(people, samples, engine.embedderId, { threshold: -1, margin: opts.margin, trimFraction: 0, negativeMargin: 0 });
      const probe = (file: string, who: string | null): ProbeOutcome => {
        const m = matcher.match(emb.get(file)!);
        return { mated: who !== null, right: who !== null && m.candidate?.person.id === who, similarity: m.similarity, nameable: m.reason === 'match' };
      };
      for (const [name, f] of chosen) for (const file of f.slice(1, 1 + MATED_PER_ID)) outcomes.push(probe(file, name));
      for (const [, f] of single) outcomes.push(probe(f[0]!, null));
    }
    const rule = identificationThreshold(engine.embedderId, size, opts.targetFpir ?? 1e-3);
    out.push({ size, trials, ...identification(outcomes, fpirs, rule ?? undefined) });
  }
  return {
    identities: multi.length,
    nonMatedIdentities: single.length,
    images: files.length,
    noFace,
    margin: opts.margin,
    ruleFpir: identificationThreshold(engine.embedderId, 10, 1e-3) === null ? null : (opts.targetFpir ?? 1e-3),
    sizes: out,
    seconds: (Date.now() - t0) / 1000,
    detectorId: engine.detectorId,
    embedderId: engine.embedderId,
  };
}
