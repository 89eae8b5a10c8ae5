/**
 * How strong a person's enrolment is, and the photo that would help most, for the page. Measured with
 * `facegate eval identification`-style galleries (src/eval/README.md): with 1,000 people enrolled, a stranger
 * held to FPIR 1e-3, a person is named on a new photo more often the more different looks of them are enrolled
 * (DIR_BY_LOOKS). Looks are samples that differ (cosine below SAME_LOOK to every other), so ten copies of one
 * photo count once; a small, blurred or turned face counts for less.
 */
import type { FaceQuality } from '../vision/types.js';
import { cosine } from './cosine.js';

/** Two samples at or above this cosine are the same look (the tracker's key-face rule). */
export const SAME_LOOK = 0.85;

/**
 * DIR of a single face at FPIR 1e-3 with 1,000 people, by photos enrolled (index = photos - 1): LFW, held out,
 * samples and centroid, each photo averaged with its mirror (src/eval/README.md, "Every photo of a person", to two
 * places). LFW photos of one person are mostly from different days, so each is a different look.
 */
export const DIR_BY_LOOKS = [0.78, 0.93, 0.94, 0.95, 0.95];

export interface StrengthSample {
  embedding: ArrayLike<number>;
  quality: FaceQuality;
  negative?: boolean;
}

export interface EnrolmentStrength {
  /** 0..1: the expected share of this person's passes named at 1,000 people (DIR_BY_LOOKS, weighted by quality). */
  score: number;
  level: 'none' | 'weak' | 'fair' | 'strong';
  /** Positive samples, and how many different looks they hold. */
  samples: number;
  looks: number;
  /** What to add next, or null when more photos would add little. */
  hint: string | null;
}

const rad = Math.PI / 180;

/** 0..1 usefulness of one sample's face: size (112 px = the embedder's input), sharpness, and how frontal. */
export function sampleUsefulness(q: FaceQuality): number {
  const c = (x: number) => (x > 1 ? 1 : x > 0 ? x : 0);
  const u = c(q.size / 112) * c(q.blur / 100) * c(Math.cos(q.yaw * rad)) * c(Math.cos(q.pitch * rad));
  return Number.isFinite(u) ? u : 0;
}

export function enrolmentStrength(samples: readonly StrengthSample[]): EnrolmentStrength {
  const pos = samples.filter((s) => !s.negative);
  if (!pos.length) return { score: 0, level: 'none', samples: 0, looks: 0, hint: 'Add a clear, front-facing photo of this person.' };
  // Greedy looks: best samples first, each joins the looks when unlike every look kept.
  const ranked = [...pos].sort((a, b) => sampleUsefulness(b.quality) - sampleUsefulness(a.quality));
  const looks: StrengthSample[] = [];
  for (const s of ranked) if (looks.every((l) => cosine(l.embedding, s.embedding) < SAME_LOOK)) looks.push(s);
  const useful = looks.map((l) => Math.max(0.25, sampleUsefulness(l.quality)));
  // Effective looks: each counts by its usefulness (a poor photo is worth a quarter of a good one).
  const effective = useful.reduce((a, b) => a + b, 0);
  const k = Math.min(effective, DIR_BY_LOOKS.length);
  const lo = Math.max(1, Math.floor(k));
  const base = k < 1 ? DIR_BY_LOOKS[0]! * k : DIR_BY_LOOKS[lo - 1]! + (DIR_BY_LOOKS[Math.min(lo, DIR_BY_LOOKS.length - 1)]! - DIR_BY_LOOKS[lo - 1]!) * (k - lo);
  const score = Math.round(base * 100) / 100;
  const level = looks.length >= 3 && score >= DIR_BY_LOOKS[2]! - 0.01 ? 'strong' : looks.length >= 2 ? 'fair' : 'weak';
  const best = Math.max(...pos.map((s) => sampleUsefulness(s.quality)));
  const yaws = looks.map((l) => l.quality.yaw);
  const turned = Math.max(...yaws.map(Math.abs)) >= 15;
  let hint: string | null = null;
  if (best < 0.5) hint = 'Add a sharper, closer, front-facing photo: every photo so far is small, blurred or turned away.';
  else if (looks.length === 1 && pos.length > 1) hint = 'These photos are all alike: add one taken on another day, in different light.';
  else if (looks.length < 3 && !turned) hint = 'Add a photo from another angle (head turned a little to one side).';
  else if (looks.length < 3) hint = 'Add a photo taken on another day, in different light.';
  else if (looks.length < DIR_BY_LOOKS.length && effective < looks.length - 0.5) hint = 'Add a sharper photo: some photos so far are small or blurred.';
  return { score, level, samples: pos.length, looks: looks.length, hint };
}
