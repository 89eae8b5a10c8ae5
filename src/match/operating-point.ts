/**
 * The matcher's operating point for the facebank as it is: which threshold applies with N people enrolled, and
 * why. match.threshold wins; else the embedder's open-set rule for match.targetFpir at N (match/thresholds.ts),
 * tied to the 1:1 threshold at N = 1; else the embedder's 1:1 threshold at FAR 1e-3.
 */
import { identificationThreshold, smallestRuleSize } from './thresholds.js';
import type { OperatingPoint } from '../events/types.js';
import type { Sample } from '../store/types.js';

export type { OperatingPoint };

export interface OperatingConfig {
  threshold?: number;
  targetFpir: number;
}

/** People with at least one positive sample of `modelId`. */
export function enrolledPeople(samples: readonly Pick<Sample, 'personId' | 'modelId' | 'negative'>[], modelId: string): number {
  const ids = new Set<string>();
  for (const s of samples) if (s.modelId === modelId && !s.negative) ids.add(s.personId);
  return ids.size;
}

/** The false-accept rate per comparison at which the stored 1:1 thresholds are measured (LFW). */
export const ONE_TO_ONE_FAR = 1e-3;

export function operatingPoint(match: OperatingConfig, modelId: string, oneToOne: number, people: number): OperatingPoint {
  if (match.threshold !== undefined) return { threshold: match.threshold, people, targetFpir: null, source: 'config' };
  const t = identificationThreshold(modelId, people, match.targetFpir);
  if (t === null) return { threshold: oneToOne, people, targetFpir: null, source: 'one-to-one' };
  return { threshold: smallFacebank(modelId, oneToOne, people, match.targetFpir, t) ?? t, people, targetFpir: match.targetFpir, source: 'facebank-size' };
}

/**
 * Below the rule's smallest measured size: with one person enrolled a stranger meets one comparison, so the 1:1
 * threshold (FAR 1e-3) is the FPIR 1e-3 point; between 1 and the smallest size the threshold is interpolated in
 * log N. Only for targets of at least 1e-3, where the 1:1 threshold is as strict as needed or stricter; for
 * stricter targets the smallest size's figure stays (null). `atSmallest` is the rule's threshold, which below
 * the smallest size is that size's.
 */
function smallFacebank(modelId: string, oneToOne: number, people: number, targetFpir: number, atSmallest: number): number | null {
  const smallest = smallestRuleSize(modelId);
  if (smallest === null || people >= smallest || targetFpir < ONE_TO_ONE_FAR) return null;
  if (oneToOne >= atSmallest) return null;
  const f = Math.log10(Math.max(people, 1)) / Math.log10(smallest);
  return Math.ceil((oneToOne + (atSmallest - oneToOne) * f) * 1000) / 1000;
}
