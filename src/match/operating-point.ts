/**
 * The matcher's operating point for the facebank as it is: which threshold applies with N people enrolled, and
 * why. match.threshold wins; else the embedder's open-set rule for match.targetFpir at N (match/thresholds.ts);
 * else the embedder's 1:1 threshold at FAR 1e-3.
 */
import { identificationThreshold } from './thresholds.js';
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

export function operatingPoint(match: OperatingConfig, modelId: string, oneToOne: number, people: number): OperatingPoint {
  if (match.threshold !== undefined) return { threshold: match.threshold, people, targetFpir: null, source: 'config' };
  const t = identificationThreshold(modelId, people, match.targetFpir);
  if (t === null) return { threshold: oneToOne, people, targetFpir: null, source: 'one-to-one' };
  return { threshold: t, people, targetFpir: match.targetFpir, source: 'facebank-size' };
}
