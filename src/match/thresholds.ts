/**
 * Cosine thresholds at FAR 1e-3 measured with `facegate eval lfw` (full pipeline, default detector), keyed by
 * embedder model id. A model without an entry gets UNMEASURED_THRESHOLD: evaluate it and set match.threshold.
 */
export const MEASURED_THRESHOLDS: Record<string, number> = {
  // Default mtcnn (faces from 32 px) + mobilefacenet, LFW 10-fold 99.28 ± 0.42, TAR 97.9 % at FAR 1e-3 (threshold 0.449).
  mobilefacenet: 0.449,
};

/** Used for a bring-your-own model nobody has measured; typical of ArcFace-style embedders. */
export const UNMEASURED_THRESHOLD = 0.35;

/**
 * Thresholds of detector + embedder pairs, keyed "<detector model id>+<embedder model id>": the landmarks a
 * detector gives move the similarities, so a pair measured on its own wins over the embedder's entry.
 */
export const MEASURED_PAIR_THRESHOLDS: Record<string, number> = {
  // Default yunet-n with O-Net landmarks (2 passes) + mobilefacenet, LFW 10-fold 99.32 ± 0.43, TAR 98.1 % at FAR 1e-3.
  'yunet-n+onet+mobilefacenet': 0.443,
};

export const thresholdFor = (modelId: string, detectorModelId?: string): number =>
  (detectorModelId !== undefined ? MEASURED_PAIR_THRESHOLDS[`${detectorModelId}+${modelId}`] : undefined) ??
  MEASURED_THRESHOLDS[modelId] ??
  UNMEASURED_THRESHOLD;

// ---------------------------------------------------------------------------------------------------------------
// Open-set (1:N) rules: the threshold that keeps the false-name rate at a target as the facebank grows, per face
// and per track. Keyed like the 1:1 thresholds ("<detector model id>+<embedder model id>", else the embedder's).
// thresholds[f][s] gives FPIR fpirs[f] with sizes[s] people enrolled; tracks[k-1][f][s] the same for a track
// named from k different looks (key faces) of one person (k = 1 is a single face). Past the last size the rule
// is extrapolated, and says so (RuleThreshold.extrapolated).
// ---------------------------------------------------------------------------------------------------------------

export interface IdentificationRule {
  sizes: number[];
  fpirs: number[];
  thresholds: number[][];
  /** Per-track thresholds by number of key faces (index k-1), same sizes and fpirs; absent: the per-face table. */
  tracks?: number[][][];
}

export const IDENTIFICATION_RULES: Record<string, IdentificationRule> = {
  // Default mtcnn (faces from 32 px) + mobilefacenet, 2026-12-05: 1,559 gallery identities, 2,722 never-enrolled
  // people as non-mated probes (10 galleries drawn at N = 10 and 100, 3 at 1,000); fitted on all its probes.
  mobilefacenet: {
    sizes: [10, 100, 1000, 1559],
    fpirs: [1e-1, 1e-2, 1e-3],
    thresholds: [
      [0.336, 0.44, 0.521, 0.534],
      [0.447, 0.532, 0.592, 0.609],
      [0.529, 0.594, 0.697, 0.732],
    ],
  },
  // Default yunet-n with O-Net landmarks + mobilefacenet, 2026-12-06 (20:10 UTC), `facegate eval identification
  // --cache`: all LFW people of the shared copy (4,281 names; 11 pairs of names of one person merged, 4,270 people,
  // 7,701 images) dealt into 16 folds, three times; galleries of one photo per person (averaged with its mirror
  // image, as enrolment does) drawn outside a stranger's fold; tracks scored by the cosine of their mean face.
  // Each deal gives two splits (one half fits at the 95 % upper confidence bound of the false-name rate, the other
  // checks); an entry is the mean of the six splits' thresholds, and a track's rises with N no faster than a face's
  // (src/eval/README.md).
  // Held out at N = 1,000 and 1e-3 (mean over splits): per face 6.6e-4 (worst split 8.5e-4, DIR 0.79), per track
  // of 3 8.2e-4 (DIR 0.92).
  // Largest size: 4,003 (everyone outside one fold).
  'yunet-n+onet+mobilefacenet': {
    sizes: [10, 30, 100, 300, 1000, 2000, 4003],
    fpirs: [1e-1, 1e-2, 1e-3],
    thresholds: [
      [0.346, 0.4, 0.449, 0.491, 0.532, 0.554, 0.573],
      [0.452, 0.493, 0.534, 0.567, 0.599, 0.616, 0.636],
      [0.535, 0.568, 0.599, 0.63, 0.671, 0.704, 0.736],
    ],
    tracks: [
      // 1 key face
      [
        [0.346, 0.4, 0.449, 0.491, 0.532, 0.554, 0.573],
        [0.452, 0.493, 0.534, 0.567, 0.599, 0.616, 0.636],
        [0.535, 0.568, 0.599, 0.63, 0.671, 0.704, 0.736],
      ],
      // 2 key faces
      [
        [0.352, 0.406, 0.455, 0.497, 0.538, 0.56, 0.579],
        [0.46, 0.501, 0.542, 0.575, 0.607, 0.624, 0.644],
        [0.543, 0.576, 0.607, 0.638, 0.673, 0.706, 0.738],
      ],
      // 3 key faces
      [
        [0.355, 0.408, 0.457, 0.499, 0.54, 0.562, 0.581],
        [0.463, 0.504, 0.545, 0.578, 0.61, 0.627, 0.647],
        [0.548, 0.579, 0.61, 0.641, 0.682, 0.685, 0.708],
      ],
    ],
  },
};

/** Linear interpolation of y over x at x0; beyond the ends, the end segment's slope continues (at least flat toward the strict side). */
function piecewise(xs: readonly number[], ys: readonly number[], x0: number): number {
  if (xs.length === 1) return ys[0]!;
  let i = 0;
  while (i < xs.length - 2 && x0 > xs[i + 1]!) i++;
  const [xa, xb, ya, yb] = [xs[i]!, xs[i + 1]!, ys[i]!, ys[i + 1]!];
  return ya + ((yb - ya) * (x0 - xa)) / (xb - xa);
}

/** The model id a detector's engine id stands for: "yunet:yunet-n@1a2b+onet" → "yunet-n+onet", "mtcnn@1a2b" → "mtcnn". */
export const detectorModelOf = (detectorId: string): string => detectorId.replace(/^[^:@+]+:/, '').replace(/@[0-9a-f]+/gi, '');

/** A site's own rules (config `match.rules`), keyed by `siteRuleKey`: fitted by `facegate eval identification`. */
export type SiteRules = Readonly<Record<string, IdentificationRule>>;

/**
 * The key of a site's own rule: "<detector model id>+<embedder id with its hash>", e.g.
 * "yunet-n+onet+w600k_r50@1a2b3c4d5e6f". The hash ties the rule to the model file it was measured with.
 */
export const siteRuleKey = (embedderId: string, detectorId: string): string => `${detectorModelOf(detectorId)}+${embedderId}`;

/**
 * The rule of a detector + embedder pair: the site's own for this exact embedder file first, then the built-in
 * pair's, then the embedder's; ids may carry "@<hash>" (only a site rule needs it).
 */
export function ruleFor(modelId: string, detectorModelId?: string, site: SiteRules = {}): { key: string; rule: IdentificationRule } | null {
  if (detectorModelId !== undefined && modelId.includes('@')) {
    const key = siteRuleKey(modelId, detectorModelId);
    const own = site[key];
    if (own) return { key, rule: own };
  }
  const emb = modelId.split('@')[0]!;
  const pair = detectorModelId !== undefined ? `${detectorModelOf(detectorModelId)}+${emb}` : undefined;
  if (pair && IDENTIFICATION_RULES[pair]) return { key: pair, rule: IDENTIFICATION_RULES[pair] };
  const r = IDENTIFICATION_RULES[emb];
  return r ? { key: emb, rule: r } : null;
}

/** A table's threshold at `people` and `targetFpir`, interpolated in log10(people) and log10(fpir). */
function fromTable(r: IdentificationRule, table: number[][], people: number, targetFpir: number): number {
  const n = Math.log10(Math.max(people, r.sizes[0]!));
  const lf = Math.log10(Math.min(targetFpir, r.fpirs[0]!));
  // Per size: the threshold at the target FPIR (fpirs are descending, thresholds ascending with them).
  const atFpir = r.sizes.map((_, s) =>
    piecewise(
      r.fpirs.map((f) => -Math.log10(f)),
      table.map((row) => row[s]!),
      -lf,
    ),
  );
  return piecewise(
    r.sizes.map((x) => Math.log10(x)),
    atFpir,
    n,
  );
}

/** A rule's per-face threshold for `people` enrolled at a target FPIR. */
export const ruleFaceThreshold = (rule: IdentificationRule, people: number, targetFpir: number): number => fromTable(rule, rule.thresholds, people, targetFpir);

/**
 * A rule's per-track thresholds for 1, 2, … key faces (index k-1; more keys than measured use the last). A rule
 * without track tables gives the per-face threshold for every k.
 */
export const ruleTrackThresholds = (rule: IdentificationRule, people: number, targetFpir: number): number[] =>
  (rule.tracks ?? [rule.thresholds]).map((t) => fromTable(rule, t, people, targetFpir));

/**
 * The built-in rule's per-face threshold for `people` enrolled at a target FPIR, or null when the model has no rule.
 * Fewer people than the smallest size measured use that size (stricter); more people and smaller targets extend
 * the nearest measured segment.
 */
export function identificationThreshold(modelId: string, people: number, targetFpir: number, detectorModelId?: string): number | null {
  const found = ruleFor(modelId, detectorModelId);
  return found ? ruleFaceThreshold(found.rule, people, targetFpir) : null;
}
