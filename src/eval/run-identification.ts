/**
 * `facegate eval identification`: open-set 1:N identification on LFW through the full pipeline (detect, align,
 * embed, and the matcher with its margin rule), per face and per track of k different photos. Protocol: open-set.ts.
 * Embeddings are cached per detector + embedder (embedding-cache.ts).
 *
 * Repeated two-fold cross-fitting: the people are dealt into folds `deals` times (seeded); each deal gives two
 * splits, the even folds fitting and the odd ones checking, then the other way round. Per split, number of key
 * faces k and gallery size N, the threshold at each target is fitted on the fitting half's strangers (every stranger
 * against every person it could meet, open-set.ts fpirAt) and the checking half is run through real galleries of N
 * at it: what the report calls held out. Near 1e-3 a handful of strangers decide a half's rate, so one split alone
 * swings by a factor of 3; the report gives the mean over splits (and the worst), and the rule it fits is the mean
 * of the splits' thresholds.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { FaceEngine } from '../engine/types.js';
import { detectorModelOf, ruleFaceThreshold, ruleFor, ruleTrackThresholds, siteRuleKey, type IdentificationRule, type SiteRules } from '../match/thresholds.js';
import { FacegateError } from '../util/errors.js';
import { embedWithCache } from './embedding-cache.js';
import { mergeSamePerson } from './lfw-aliases.js';
import { atThreshold } from './identification.js';
import { deal, FOLDS, fitThreshold, fpirAt, rank1, strangerTails, trialOutcomes, type Identity, type Outcome, type StrangerTails } from './open-set.js';

export const DEFAULT_FPIRS = [1e-1, 1e-2, 1e-3];
export const DEFAULT_SIZES = [10, 100, 1000, 2000, 'all'] as const;
/** Deals of the people into folds: each gives two splits (each half fits once and checks once). */
export const DEFAULT_DEALS = 3;

export interface HeldOutPoint {
  fpir: number;
  /** Mean of the splits' thresholds (each fitted on its fitting half), to 0.001: the rule's entry (tracks: see IdentificationReport.fitted). */
  threshold: number;
  /** Each split's fitted threshold. */
  splitThresholds: number[];
  /** Expected false-name rate of the checking half's strangers at its split's threshold (every gallery of N): mean over splits. */
  checkFpirExpected: number;
  /** The worst split's expected held-out false-name rate. */
  checkFpirExpectedMax: number;
  /** Measured on the checking half through drawn galleries (strangers named, mated probes named right): means over splits. */
  checkFpir: number;
  checkDir: number;
  fitDir: number;
}

export interface IdentificationSize {
  size: number;
  /** Galleries drawn per fold and deal. */
  draws: number;
  rank1: number;
  /** Probes of one checking half (the first split's): strangers (faces or tracks) and mated ones. */
  checkStrangers: number;
  checkMated: number;
  points: HeldOutPoint[];
  /** The shipped rule's threshold for this N at the target FPIR, measured on every split's checking half (mean). */
  rule?: { threshold: number; checkFpir: number; checkDir: number };
}

export interface KeysReport {
  /** Faces per probe: 1 = single faces, k = tracks of k different photos. */
  keys: number;
  /** Stranger probes in the first split's fitting and checking halves. */
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
  /** Deals into folds; splits = 2 × deals. */
  deals: number;
  /** The FPIR the shipped rule is checked at (match.targetFpir); null when the pair has no rule. */
  ruleFpir: number | null;
  /** The shipped rule's key, null when none. */
  ruleKey: string | null;
  /** The pair's key for a new rule: "<detector model>+<embedder model>". */
  pairKey: string;
  /** The key of this rule in a site's config (match.rules): the pair with the embedder file's hash. */
  siteKey: string;
  keys: KeysReport[];
  /** The rule these measurements fit (paste into match/thresholds.ts); a track's entries rise with N no faster than a face's. */
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
  /** The site's own rules (match.rules): the rule checked is the one the appliance would use. */
  siteRules?: SiteRules;
  /** Faces per probe to measure: 1 (faces) and tracks of 2, 3 different photos by default. */
  keys?: number[];
  /** Use only the first N identities (by name). */
  limitIdentities?: number;
  /** Embedding cache directory (kept per detector + embedder). */
  cacheDir?: string;
  /** Seed of the first deal; deal d uses seed + d. */
  seed?: number;
  /** Deals into folds (DEFAULT_DEALS); each gives two splits. */
  deals?: number;
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

/** One split's figures at one target: its fitted threshold and what the checking half shows at it. */
interface HalfPoint {
  threshold: number;
  expected: number;
  fpir: number;
  dir: number;
  fitDir: number;
}

/** The same stranger scores with the halves' roles exchanged (the checking half fits). */
const swapHalves = (t: StrangerTails): StrangerTails => ({ ...t, check: t.check.map((c) => !c) });

const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Galleries drawn per fold: many small ones, one of the largest. */
const drawsFor = (size: number) => (size <= 10 ? 20 : size <= 100 ? 6 : size <= 1000 ? 4 : 1);

export async function evalIdentification(engine: FaceEngine, dataDir: string, opts: IdentificationOptions): Promise<IdentificationReport> {
  const t0 = Date.now();
  const { ids, images, noFace, samePersonMerged } = await lfwIdentities(engine, dataDir, opts);
  if (ids.length < FOLDS * 2) throw new FacegateError('invalid', `LFW folder ${dataDir} has ${ids.length} people; the protocol needs at least ${FOLDS * 2}.`);
  const seed = opts.seed ?? 1;
  const deals = Math.max(1, opts.deals ?? DEFAULT_DEALS);
  const folds = Array.from({ length: deals }, (_, d) => deal(ids.length, seed + d));
  const foldSizes = Array.from({ length: FOLDS }, (_, f) => folds[0]!.filter((x) => x === f).length);
  const all = ids.length - Math.max(...foldSizes);
  const fpirs = opts.fpirs ?? DEFAULT_FPIRS;
  const sizes = [...new Set((opts.sizes ?? [...DEFAULT_SIZES]).map((s) => (s === 'all' ? all : s)).filter((s) => s <= all))].sort((a, b) => a - b);
  if (!sizes.length) throw new FacegateError('invalid', `Every gallery size asked for is larger than the ${all} people outside one fold.`);
  const target = opts.targetFpir ?? 1e-3;
  const found = ruleFor(engine.embedderId, engine.detectorId, opts.siteRules);
  const keysList = [...new Set(opts.keys ?? [1, 2, 3])].sort((a, b) => a - b);
  const out: KeysReport[] = [];
  for (const keys of keysList) {
    const protocols = folds.map((_, d) => ({ photos: 1, flip: true, keys, margin: opts.margin, maxMated: 1000, seed: seed + d }));
    const tails = folds.map((fold, d) => strangerTails(ids, fold, protocols[d]!));
    const rows: IdentificationSize[] = [];
    for (const size of sizes) {
      const shipped = !found
        ? null
        : keys === 1
          ? ruleFaceThreshold(found.rule, size, target)
          : ruleTrackThresholds(found.rule, size, target)[Math.min(keys, 99) - 1];
      const perSplit: { fit: HalfPoint[]; rule: { fpir: number; dir: number } | null }[] = [];
      let rank1Sum = 0;
      let first: Outcome[] = [];
      folds.forEach((fold, d) => {
        const o = trialOutcomes(ids, fold, size, drawsFor(size), protocols[d]!);
        if (d === 0) first = o.filter((x) => x.check);
        rank1Sum += rank1(o);
        for (const swap of [false, true]) {
          const t = swap ? swapHalves(tails[d]!) : tails[d]!;
          const check = o.filter((x) => x.check !== swap);
          const fit = o.filter((x) => x.check === swap);
          perSplit.push({
            fit: fpirs.map((fpir) => {
              const threshold = fitThreshold(t, size, fpir);
              const a = atThreshold(check, threshold);
              return { threshold, expected: fpirAt(t, 'check', size, threshold), fpir: a.fpir, dir: a.dir, fitDir: atThreshold(fit, threshold).dir };
            }),
            rule: shipped === null || shipped === undefined ? null : atThreshold(check, shipped),
          });
        }
      });
      const row: IdentificationSize = {
        size,
        draws: drawsFor(size),
        rank1: rank1Sum / deals,
        checkStrangers: first.filter((x) => !x.mated).length,
        checkMated: first.filter((x) => x.mated).length,
        points: fpirs.map((fpir, f) => {
          const at = perSplit.map((p) => p.fit[f]!);
          return {
            fpir,
            threshold: Math.round(mean(at.map((p) => p.threshold)) * 1000) / 1000,
            splitThresholds: at.map((p) => p.threshold),
            checkFpirExpected: mean(at.map((p) => p.expected)),
            checkFpirExpectedMax: Math.max(...at.map((p) => p.expected)),
            checkFpir: mean(at.map((p) => p.fpir)),
            checkDir: mean(at.map((p) => p.dir)),
            fitDir: mean(at.map((p) => p.fitDir)),
          };
        }),
      };
      if (shipped !== null && shipped !== undefined) {
        const r = perSplit.map((p) => p.rule!);
        row.rule = { threshold: shipped, checkFpir: mean(r.map((x) => x.fpir)), checkDir: mean(r.map((x) => x.dir)) };
      }
      rows.push(row);
    }
    out.push({ keys, fitStrangers: tails[0]!.check.filter((c) => !c).length, checkStrangers: tails[0]!.check.filter((c) => c).length, sizes: rows });
  }
  const table = (k: KeysReport) => fpirs.map((_, f) => k.sizes.map((s) => s.points[f]!.threshold));
  const faces = out.find((k) => k.keys === 1);
  const faceTable = faces ? table(faces) : null;
  // A track's threshold rises with N no faster than a face's. Where a half holds enough stranger tracks the two
  // rise alike; where it does not (tracks of 2 at N = 4,003: about 2,000 stranger tracks, the fit reaching for the
  // very largest) a track's entry jumps, and the face table, measured on twice the strangers, is the better guide.
  const capped = (k: KeysReport) => {
    const t = table(k);
    if (k.keys === 1 || !faceTable) return t;
    return t.map((row, f) => {
      const faceRow = faceTable[f]!;
      const kept = [...row];
      for (let s = 1; s < kept.length; s++) kept[s] = Math.min(kept[s]!, Math.round((kept[s - 1]! + faceRow[s]! - faceRow[s - 1]!) * 1000) / 1000);
      return kept;
    });
  };
  const fitted: IdentificationRule = {
    sizes,
    fpirs,
    thresholds: faceTable ?? table(out[0]!),
    tracks: out.map(capped),
  };
  return {
    identities: ids.length,
    images,
    noFace,
    samePersonMerged,
    margin: opts.margin,
    folds: FOLDS,
    deals,
    ruleFpir: found ? target : null,
    ruleKey: found?.key ?? null,
    pairKey: `${detectorModelOf(engine.detectorId)}+${engine.embedderId.split('@')[0]!}`,
    siteKey: siteRuleKey(engine.embedderId, engine.detectorId),
    keys: out,
    fitted,
    seconds: (Date.now() - t0) / 1000,
    detectorId: engine.detectorId,
    embedderId: engine.embedderId,
  };
}

/** The YAML that makes an appliance name people by this fitted rule (config match.rules, merged with the rest). */
export function siteRuleSnippet(r: Pick<IdentificationReport, 'siteKey' | 'fitted'>): string {
  return `match:\n  rules:\n    ${JSON.stringify(r.siteKey)}: ${JSON.stringify(r.fitted)}\n`;
}
