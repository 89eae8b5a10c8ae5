/**
 * `facegate eval identification`: open-set 1:N identification on LFW through the full pipeline (detect, align,
 * embed, and the matcher with its margin rule), per face and per track of k different photos. Protocol and
 * held-out check: open-set.ts. Embeddings are cached per detector + embedder (embedding-cache.ts).
 *
 * Per number of key faces k and gallery size N: the threshold at each target is fitted on the fit half's
 * strangers (every stranger against every person it could meet, open-set.ts fpirAt), then the check half is run
 * through real galleries of N at that threshold: its false-name rate and DIR are what the report calls held out.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { FaceEngine } from '../engine/types.js';
import { detectorModelOf, identificationThreshold, ruleFor, trackThresholds, type IdentificationRule } from '../match/thresholds.js';
import { FacegateError } from '../util/errors.js';
import { embedWithCache } from './embedding-cache.js';
import { mergeSamePerson } from './lfw-aliases.js';
import { atThreshold } from './identification.js';
import { deal, FOLDS, fitThreshold, fpirAt, rank1, strangerTails, trialOutcomes, type Identity } from './open-set.js';

export const DEFAULT_FPIRS = [1e-1, 1e-2, 1e-3];
export const DEFAULT_SIZES = [10, 100, 1000, 2000, 'all'] as const;

export interface HeldOutPoint {
  fpir: number;
  /** Fitted on the fit half. */
  threshold: number;
  /** Expected false-name rate of the check half's strangers at that threshold (every gallery of N). */
  checkFpirExpected: number;
  /** Measured on the check half through drawn galleries: strangers named, mated probes named right. */
  checkFpir: number;
  checkDir: number;
  fitDir: number;
}

export interface IdentificationSize {
  size: number;
  /** Galleries drawn per fold. */
  draws: number;
  rank1: number;
  /** Check-half probes measured: strangers (faces or tracks) and mated ones. */
  checkStrangers: number;
  checkMated: number;
  points: HeldOutPoint[];
  /** The shipped rule's threshold for this N at the target FPIR, measured on the check half. */
  rule?: { threshold: number; checkFpir: number; checkDir: number };
}

export interface KeysReport {
  /** Faces per probe: 1 = single faces, k = tracks of k different photos. */
  keys: number;
  /** Stranger probes in the fit half and in the check half. */
  fitStrangers: number;
  checkStrangers: number;
  sizes: IdentificationSize[];
}

export interface IdentificationReport {
  identities: number;
  images: number;
  noFace: number;
  /** LFW name pairs that are one person (lfw-aliases.ts), merged into one identity each. */
  samePersonMerged: number;
  margin: number;
  folds: number;
  /** The FPIR the shipped rule is checked at (match.targetFpir); null when the pair has no rule. */
  ruleFpir: number | null;
  /** The shipped rule's key, null when none. */
  ruleKey: string | null;
  /** The pair's key for a new rule: "<detector model>+<embedder model>". */
  pairKey: string;
  keys: KeysReport[];
  /** The rule these measurements fit (paste into match/thresholds.ts). */
  fitted: IdentificationRule;
  seconds: number;
  detectorId: string;
  embedderId: string;
}

export interface IdentificationOptions {
  /** Gallery sizes; 'all' = every identity outside one fold. */
  sizes?: (number | 'all')[];
  fpirs?: number[];
  margin: number;
  /** The shipped rule is checked at this FPIR (match.targetFpir). */
  targetFpir?: number;
  /** Faces per probe to measure: 1 (faces) and tracks of 2, 3 different photos by default. */
  keys?: number[];
  /** Use only the first N identities (by name). */
  limitIdentities?: number;
  /** Embedding cache directory (kept per detector + embedder). */
  cacheDir?: string;
  seed?: number;
  progress?: (done: number, total: number) => void;
}

/** LFW's folder: person → its image paths (relative to dataDir), sorted. */
export function listIdentities(dataDir: string): Map<string, string[]> {
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

/** The LFW identities embedded (from the cache where it has them). */
export async function lfwIdentities(
  engine: FaceEngine,
  dataDir: string,
  opts: Pick<IdentificationOptions, 'limitIdentities' | 'cacheDir' | 'progress'>,
): Promise<{ ids: Identity[]; images: number; noFace: number; samePersonMerged: number }> {
  let listed = [...listIdentities(dataDir)];
  if (opts.limitIdentities) listed = listed.slice(0, opts.limitIdentities);
  const { merged, pairs } = mergeSamePerson(listed);
  listed = merged;
  const files = listed.flatMap(([, f]) => f);
  const emb = await embedWithCache(engine, dataDir, files, { cacheDir: opts.cacheDir, progress: opts.progress });
  let noFace = 0;
  for (const e of emb.values()) if (e.noFace) noFace++;
  const ids = listed.map(([name, f]) => ({ name, images: f.map((x) => emb.get(x)!.plain), mirrors: f.map((x) => emb.get(x)!.mirror) }));
  return { ids, images: files.length, noFace, samePersonMerged: pairs };
}

/** Galleries drawn per fold: many small ones, one of the largest. */
const drawsFor = (size: number) => (size <= 10 ? 20 : size <= 100 ? 6 : size <= 1000 ? 4 : 1);

export async function evalIdentification(engine: FaceEngine, dataDir: string, opts: IdentificationOptions): Promise<IdentificationReport> {
  const t0 = Date.now();
  const { ids, images, noFace, samePersonMerged } = await lfwIdentities(engine, dataDir, opts);
  if (ids.length < FOLDS * 2) throw new FacegateError('invalid', `LFW folder ${dataDir} has ${ids.length} people; the protocol needs at least ${FOLDS * 2}.`);
  const fold = deal(ids.length, opts.seed ?? 1);
  const foldSizes = Array.from({ length: FOLDS }, (_, f) => fold.filter((x) => x === f).length);
  const all = ids.length - Math.max(...foldSizes);
  const fpirs = opts.fpirs ?? DEFAULT_FPIRS;
  const sizes = [...new Set((opts.sizes ?? [...DEFAULT_SIZES]).map((s) => (s === 'all' ? all : s)).filter((s) => s <= all))].sort((a, b) => a - b);
  if (!sizes.length) throw new FacegateError('invalid', `Every gallery size asked for is larger than the ${all} people outside one fold.`);
  const target = opts.targetFpir ?? 1e-3;
  const found = ruleFor(engine.embedderId, engine.detectorId);
  const keysList = [...new Set(opts.keys ?? [1, 2, 3])].sort((a, b) => a - b);
  const out: KeysReport[] = [];
  for (const keys of keysList) {
    const protocol = { photos: 1, flip: true, keys, margin: opts.margin, maxMated: 1000, seed: opts.seed ?? 1 };
    const tails = strangerTails(ids, fold, protocol);
    const rows: IdentificationSize[] = [];
    for (const size of sizes) {
      const o = trialOutcomes(ids, fold, size, drawsFor(size), protocol);
      const check = o.filter((x) => x.check);
      const fit = o.filter((x) => !x.check);
      const points = fpirs.map((fpir) => {
        const threshold = fitThreshold(tails, size, fpir);
        const a = atThreshold(check, threshold);
        return {
          fpir,
          threshold,
          checkFpirExpected: fpirAt(tails, 'check', size, threshold),
          checkFpir: a.fpir,
          checkDir: a.dir,
          fitDir: atThreshold(fit, threshold).dir,
        };
      });
      const shipped =
        keys === 1
          ? identificationThreshold(engine.embedderId, size, target, engine.detectorId)
          : trackThresholds(engine.embedderId, size, target, engine.detectorId)?.[Math.min(keys, 99) - 1];
      const row: IdentificationSize = {
        size,
        draws: drawsFor(size),
        rank1: rank1(o),
        checkStrangers: check.filter((x) => !x.mated).length,
        checkMated: check.filter((x) => x.mated).length,
        points,
      };
      if (shipped !== null && shipped !== undefined) {
        const a = atThreshold(check, shipped);
        row.rule = { threshold: shipped, checkFpir: a.fpir, checkDir: a.dir };
      }
      rows.push(row);
    }
    out.push({ keys, fitStrangers: tails.check.filter((c) => !c).length, checkStrangers: tails.check.filter((c) => c).length, sizes: rows });
  }
  const table = (k: KeysReport) => fpirs.map((_, f) => k.sizes.map((s) => s.points[f]!.threshold));
  const faces = out.find((k) => k.keys === 1);
  const fitted: IdentificationRule = {
    sizes,
    fpirs,
    thresholds: faces ? table(faces) : table(out[0]!),
    tracks: out.map(table),
  };
  return {
    identities: ids.length,
    images,
    noFace,
    samePersonMerged,
    margin: opts.margin,
    folds: FOLDS,
    ruleFpir: found ? target : null,
    ruleKey: found?.key ?? null,
    pairKey: `${detectorModelOf(engine.detectorId)}+${engine.embedderId.split('@')[0]!}`,
    keys: out,
    fitted,
    seconds: (Date.now() - t0) / 1000,
    detectorId: engine.detectorId,
    embedderId: engine.embedderId,
  };
}
