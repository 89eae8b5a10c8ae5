/**
 * Checks before a face becomes a sample, the same on every path: is it already one of this person's samples (a
 * double click, the same event corrected twice), and does it look more like someone else who is enrolled, at the
 * threshold the live matcher names people with (a likely mix-up)?
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

/** The same for two float32 rows (the stored embeddings): one shape for the JIT, four sums in flight. */
function dotF32(a: Float32Array, b: Float32Array): number {
  const d = a.length;
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let i = 0;
  for (; i + 3 < d; i += 4) {
    s0 += a[i]! * b[i]!;
    s1 += a[i + 1]! * b[i + 1]!;
    s2 += a[i + 2]! * b[i + 2]!;
    s3 += a[i + 3]! * b[i + 3]!;
  }
  for (; i < d; i++) s0 += a[i]! * b[i]!;
  return s0 + s1 + s2 + s3;
}

/**
 * Each enrolled person's best similarity to `embedding` (samples of model `modelId`, positive or negative), best
 * first. With `only`, just the `top` most alike and the people in `also` (what a verdict reads), so a facebank of
 * thousands builds a handful of answers instead of sorting them all.
 */
export function resemblances(
  embedding: ArrayLike<number>,
  modelId: string,
  samples: readonly Sample[],
  people: readonly Person[],
  negative = false,
  only?: { top: number; also: readonly string[] },
): Resemblance[] {
  let n = 0;
  for (let i = 0; i < embedding.length; i++) n += embedding[i]! * embedding[i]!;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  const q = Float32Array.from(embedding, (x) => x * inv);
  const best = new Map<string, number>();
  for (const s of samples) {
    const e = s.embedding;
    if (s.negative !== negative || s.modelId !== modelId || e.length !== q.length) continue;
    const v = e instanceof Float32Array ? dotF32(q, e) : dot(q, e);
    const b = best.get(s.personId);
    if (b === undefined || v > b) best.set(s.personId, v);
  }
  let ids: Iterable<[string, number]> = best;
  if (only) {
    const top: [string, number][] = [];
    for (const e of best) {
      if (top.length === only.top && e[1] <= top[top.length - 1]![1]) continue;
      let i = top.length < only.top ? top.length : top.length - 1;
      if (top.length < only.top) top.push(e);
      for (; i > 0 && top[i - 1]![1] < e[1]; i--) top[i] = top[i - 1]!;
      top[i] = e;
    }
    for (const id of only.also) if (best.has(id) && !top.some(([t]) => t === id)) top.push([id, best.get(id)!]);
    ids = top;
  }
  const wanted = new Map(ids);
  const names = new Map<string, string>();
  for (const p of people) if (wanted.has(p.id)) names.set(p.id, p.name);
  return [...wanted]
    .filter(([id]) => names.has(id))
    .map(([personId, similarity]) => ({ personId, name: names.get(personId)!, similarity }))
    .sort((a, b) => b.similarity - a.similarity);
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
