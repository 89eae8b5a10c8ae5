/**
 * The matcher's operating point for the facebank as it is: which threshold applies with N people enrolled, and
 * why. match.threshold wins; else the open-set rule for match.targetFpir at N (the site's own for this detector and
 * embedder file, match.rules, else the built-in one: match/thresholds.ts), tied to the 1:1 threshold at N = 1;
 * else the embedder's 1:1 threshold at FAR 1e-3.
 */
import { ruleFaceThreshold, ruleFor, ruleTrackThresholds, type SiteRules } from './thresholds.js';
import type { OperatingPoint } from '../events/types.js';
import type { Sample } from '../store/types.js';

export type { OperatingPoint };

export interface OperatingConfig {
  threshold?: number;
  targetFpir: number;
  /** The site's own open-set rules (config match.rules), used before the built-in ones for the pair they name. */
  rules?: SiteRules;
}

/** People with at least one positive sample of `modelId`. */
export function enrolledPeople(samples: readonly Pick<Sample, 'personId' | 'modelId' | 'negative'>[], modelId: string): number {
  const ids = new Set<string>();
  for (const s of samples) if (s.modelId === modelId && !s.negative) ids.add(s.personId);
  return ids.size;
}

/** The false-accept rate per comparison at which the stored 1:1 thresholds are measured (LFW). */
export const ONE_TO_ONE_FAR = 1e-3;

/**
 * `detectorModelId` (a detector's model id or engine id) picks the pair's rule when there is one. Past the largest
 * size measured the point says so (extrapolated, largestMeasured), for the log and the page.
 */
export function operatingPoint(match: OperatingConfig, modelId: string, oneToOne: number, people: number, detectorModelId?: string): OperatingPoint {
  const found = ruleFor(modelId, detectorModelId, match.rules);
  const largest = found?.rule.sizes.at(-1) ?? null;
  const about = { people, extrapolated: largest !== null && people > largest, largestMeasured: largest, rule: found?.key ?? null };
  if (match.threshold !== undefined)
    return { threshold: match.threshold, targetFpir: null, source: 'config', trackThresholds: [match.threshold], ...about, extrapolated: false };
  if (!found) return { threshold: oneToOne, targetFpir: null, source: 'one-to-one', trackThresholds: [oneToOne], ...about };
  const face = ruleFaceThreshold(found.rule, people, match.targetFpir);
  const tracks = ruleTrackThresholds(found.rule, people, match.targetFpir);
  const small = (t: number) => smallFacebank(found.rule.sizes[0]!, oneToOne, people, match.targetFpir, t) ?? t;
  const round = (t: number) => Math.ceil(t * 1000) / 1000;
  return {
    threshold: round(small(face)),
    targetFpir: match.targetFpir,
    source: 'facebank-size',
    trackThresholds: tracks.map((t) => round(small(t))),
    ...about,
  };
}

/**
 * Below the rule's smallest measured size: with one person enrolled a stranger meets one comparison, so the 1:1
 * threshold (FAR 1e-3) is the FPIR 1e-3 point; between 1 and the smallest size the threshold is interpolated in
 * log N. Only for targets of at least 1e-3, where the 1:1 threshold is as strict as needed or stricter; for
 * stricter targets the smallest size's figure stays (null). `atSmallest` is the rule's threshold, which below
 * the smallest size is that size's.
 */
function smallFacebank(smallest: number, oneToOne: number, people: number, targetFpir: number, atSmallest: number): number | null {
  if (people >= smallest || targetFpir < ONE_TO_ONE_FAR) return null;
  if (oneToOne >= atSmallest) return null;
  const f = Math.log10(Math.max(people, 1)) / Math.log10(smallest);
  return Math.ceil((oneToOne + (atSmallest - oneToOne) * f) * 1000) / 1000;
}

/** The threshold a track with `keys` key faces is named at (more keys than the rule measured use its last). */
export function trackThresholdFor(point: OperatingPoint, keys: number): number {
  const ts = point.trackThresholds?.length ? point.trackThresholds : [point.threshold];
  return ts[Math.min(Math.max(keys, 1), ts.length) - 1]!;
}
