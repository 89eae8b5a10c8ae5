/**
 * Checks before a face becomes a sample, the same on every path: is it already one of this person's samples (a
 * double click, the same event corrected twice), and does it look more like someone else who is enrolled, at the
 * threshold the live matcher names people with (a likely mix-up)? The similarities come from the live matcher
 * (Enrolment.resemblances, match/matcher.ts), the one place faces are scored against the facebank.
 */

/** Cosine similarity at or above which two embeddings are the same face picture. */
export const SAME_PICTURE = 0.995;

export interface Resemblance {
  personId: string;
  name: string;
  similarity: number;
}

/** A similarity in words: "59 % alike", or "not alike" for the small and negative ones. */
export function alikeWords(similarity: number): string {
  return similarity < 0.05 ? 'not alike' : `${Math.round(similarity * 100)} % alike`;
}

export type EnrolVerdict =
  | { kind: 'ok'; own: number | null }
  | { kind: 'duplicate'; message: string }
  | { kind: 'looks_like_other'; message: string; match: Resemblance; own: number | null };

/**
 * The verdict for adding a face to `personId`, given everyone's resemblance and the live threshold. `ignore`: people
 * the user has just ruled out (the person an event wrongly named), not counted as look-alikes.
 */
export function judgeEnrolment(
  person: { id: string; name: string },
  found: readonly Resemblance[],
  threshold: number,
  ignore: ReadonlySet<string> = new Set(),
): EnrolVerdict {
  const own = found.find((r) => r.personId === person.id)?.similarity ?? null;
  if (own !== null && own >= SAME_PICTURE) return { kind: 'duplicate', message: `This face is already one of ${person.name}'s photos.` };
  const other = found.find((r) => r.personId !== person.id && !ignore.has(r.personId));
  if (other && other.similarity >= threshold && (own === null || other.similarity > own)) {
    const ownText = own === null ? `${person.name} has no photos yet to compare with` : alikeWords(own);
    return {
      kind: 'looks_like_other',
      message: `This face looks more like ${other.name} (${alikeWords(other.similarity)}) than ${person.name} (${ownText}). Add it anyway, or add it to ${other.name}?`,
      match: other,
      own,
    };
  }
  return { kind: 'ok', own };
}
