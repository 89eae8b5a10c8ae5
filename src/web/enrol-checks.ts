/**
 * Checks before a face becomes a sample: is it already one of this person's samples (a double click, the same
 * photo twice), and does it look more like someone else who is enrolled (a likely mix-up)?
 */
import type { Person, Sample } from '../store/types.js';

/** Cosine similarity at or above which two embeddings are the same face picture. */
export const SAME_PICTURE = 0.995;

export interface Resemblance {
  personId: string;
  name: string;
  similarity: number;
}

const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
  return s;
};

/** Each enrolled person's best similarity to `embedding` (positive samples of model `modelId`), best first. */
export function resemblances(embedding: ArrayLike<number>, modelId: string, samples: readonly Sample[], people: readonly Person[]): Resemblance[] {
  const best = new Map<string, number>();
  for (const s of samples) {
    if (s.negative || s.modelId !== modelId || s.embedding.length !== embedding.length) continue;
    const v = dot(embedding, s.embedding);
    if (v > (best.get(s.personId) ?? -2)) best.set(s.personId, v);
  }
  const names = new Map(people.map((p) => [p.id, p.name]));
  return [...best]
    .filter(([id]) => names.has(id))
    .map(([personId, similarity]) => ({ personId, name: names.get(personId)!, similarity }))
    .sort((a, b) => b.similarity - a.similarity);
}

export type EnrolVerdict =
  | { kind: 'ok'; own: number | null }
  | { kind: 'duplicate'; message: string }
  | { kind: 'looks_like_other'; message: string; match: Resemblance; own: number | null };

/** The verdict for adding `embedding` to `personId`, given everyone's resemblance and the match threshold. */
export function judgeEnrolment(personId: string, personName: string, found: readonly Resemblance[], threshold: number): EnrolVerdict {
  const own = found.find((r) => r.personId === personId)?.similarity ?? null;
  if (own !== null && own >= SAME_PICTURE) return { kind: 'duplicate', message: `This face is already one of ${personName}'s photos.` };
  const other = found.find((r) => r.personId !== personId);
  if (other && other.similarity >= threshold && (own === null || other.similarity > own)) {
    const pct = (x: number) => `${Math.round(x * 100)}%`;
    const ownText = own === null ? `${personName} has no photos yet to compare with` : `${pct(own)} like ${personName}`;
    return {
      kind: 'looks_like_other',
      message: `This face looks more like ${other.name} (${pct(other.similarity)} alike) than ${personName} (${ownText}). Add it anyway, or add it to ${other.name}?`,
      match: other,
      own,
    };
  }
  return { kind: 'ok', own };
}
