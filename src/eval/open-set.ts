/**
 * The open-set protocol over embedded identities (maths only; embeddings come from embedding-cache.ts).
 *
 * Identities are dealt into FOLDS folds (seeded). For a gallery size N and a fold f, N people are drawn from the
 * other folds and enrolled (their first `photos` images); every image of fold f's people is a stranger face
 * (never enrolled), and the enrolled people's other images are mated faces. Here the even folds are the fit half
 * and the odd folds the check half (`check`): a threshold is chosen on the fit half's strangers and its false-name
 * rate and DIR are measured on the check half's, which the fit never saw; the evaluation (run-identification.ts)
 * also exchanges the two. Dealing strangers out of the gallery fold by fold lets N reach every identity but one fold.
 *
 * Tracks: `keys` different photos of one person stand for a track that saw that person from `keys` different
 * looks. A track's score for a person is the cosine of its faces' mean direction to them (track-evidence.ts); it is
 * named like a face, by the matcher's margin rule, at the track threshold.
 */
import { meanOfPair } from '../match/cosine.js';
import { Matcher } from '../match/matcher.js';
import { rng } from '../match/random.js';
import { meanOfUnits, trackEvidence } from '../match/track-evidence.js';
import type { Person, Sample } from '../store/types.js';
import type { ProbeOutcome } from './identification.js';

export const FOLDS = 16;

export interface Identity {
  name: string;
  /** Normalised embeddings of the person's images, in file order. */
  images: Float32Array[];
  /** Embeddings of the mirrored crops, same order (enrolment averages each photo with its mirror). */
  mirrors?: Float32Array[];
}

export type Combine = 'best' | 'best+trimmed' | 'mean' | 'centroid' | 'samples+centroid';

export interface ProtocolOptions {
  /** Photos enrolled per person (fewer when a person has no more; mated probes need one left over). */
  photos: number;
  /** Enrol each photo as the mean of it and its mirrored crop, as the appliance does (src/enrol/mirror.ts). */
  flip?: boolean;
  /** How a person's samples are combined: the matcher's ranking ('best+trimmed'), best alone, mean, or one centroid sample. */
  combine?: Combine;
  margin: number;
  /** Faces per track (different photos); 0 = faces only. */
  keys?: number;
  /** Mated probes start at this image of each person (only people with more images are probed); default: after the enrolled ones. */
  probeFrom?: number;
  /** Mated faces kept per trial (a random subset; strangers are all kept). */
  maxMated?: number;
  seed?: number;
}

export interface Outcome extends ProbeOutcome {
  /** The trial's fold is in the check half. */
  check: boolean;
}

/** Seeded shuffle of 0..n-1. */
function shuffled(n: number, rand: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

/** Fold of each identity (index into `ids`), dealt after a seeded shuffle. */
export function deal(count: number, seed: number, folds = FOLDS): number[] {
  const order = shuffled(count, rng(seed));
  const fold = new Array<number>(count);
  order.forEach((id, k) => (fold[id] = k % folds));
  return fold;
}

const unit = (v: Float32Array): Float32Array => {
  let n = 0;
  for (const x of v) n += x * x;
  const inv = n > 0 ? 1 / Math.sqrt(n) : 0;
  return Float32Array.from(v, (x) => x * inv);
};

function mean(vs: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(vs[0]!.length);
  for (const v of vs) for (let i = 0; i < v.length; i++) out[i]! += v[i]! / vs.length;
  return out;
}

const noQuality = { size: 0, score: 0, blur: 0, yaw: 0, pitch: 0, roll: 0 };

/** How many photos person `id` enrols: `photos`, but one left over for probes when they have several. */
export const enrolCount = (id: Identity, photos: number) => (id.images.length >= 2 ? Math.min(photos, id.images.length - 1) : 1);

/** The first k photos of a person as enrolled: each averaged with its mirror when `flip`, as enrolment does. */
function enrolledPhotos(id: Identity, k: number, flip?: boolean): Float32Array[] {
  const vs = id.images.slice(0, k);
  const mirrors = id.mirrors;
  return flip && mirrors ? vs.map((v, i) => meanOfPair(v, mirrors[i]!)) : vs;
}

/** A matcher over `gallery`, each person enrolled per the options. */
export function galleryMatcher(gallery: readonly Identity[], opts: Pick<ProtocolOptions, 'photos' | 'flip' | 'combine' | 'margin'>): Matcher {
  const people: Person[] = [];
  const samples: Sample[] = [];
  const combine = opts.combine ?? 'best+trimmed';
  for (const id of gallery) {
    people.push({ id: id.name, name: id.name, created: '', notes: '' });
    const k = enrolCount(id, opts.photos);
    let vs = enrolledPhotos(id, k, opts.flip);
    if (combine === 'centroid') vs = [unit(mean(vs))];
    else if (combine === 'samples+centroid' && vs.length > 1) vs = [...vs, unit(mean(vs))];
    vs.forEach((v, i) =>
      samples.push({
        id: `${id.name}#${i}`,
        personId: id.name,
        embedding: Float32Array.from(v),
        modelId: 'eval',
        quality: noQuality,
        source: 'cli',
        created: '',
        negative: false,
      }),
    );
  }
  // 'best' ranks by best-of alone: trim everything but the best (trimFraction just under 1).
  const trimFraction = combine === 'mean' ? 0 : combine === 'best' ? 0.999 : 0.5;
  return new Matcher(people, samples, 'eval', { threshold: -1, margin: opts.margin, trimFraction, negativeMargin: 0 });
}

/** Windows of `keys` images (cyclic, one starting at each image) of images[from..]; none when too few. */
export function windows(images: readonly Float32Array[], from: number, keys: number): Float32Array[][] {
  const pool = images.slice(from);
  if (pool.length < keys) return [];
  if (pool.length === keys) return [pool];
  return pool.map((_, i) => Array.from({ length: keys }, (_, j) => pool[(i + j) % pool.length]!));
}

/** The outcome of one probe (a face, or a track's faces) against the gallery. */
function probe(matcher: Matcher, faces: readonly Float32Array[], who: string | null, check: boolean): Outcome {
  const e = trackEvidence(
    matcher,
    faces.map((f) => ({ embedding: f, weight: 1 })),
  );
  return {
    mated: who !== null,
    right: who !== null && e.candidate?.person.id === who,
    similarity: e.similarity,
    nameable: e.nameable,
    check,
  };
}

/**
 * Outcomes of every trial at gallery size `size`: per fold, `draws` galleries drawn from the other folds. With
 * opts.keys ≥ 1 the probes are tracks of that many photos, else single faces.
 */
export function trialOutcomes(ids: readonly Identity[], fold: readonly number[], size: number, draws: number, opts: ProtocolOptions): Outcome[] {
  const rand = rng(opts.seed ?? 1);
  const keys = Math.max(1, opts.keys ?? 1);
  const out: Outcome[] = [];
  for (let f = 0; f < FOLDS; f++) {
    const check = f % 2 === 1;
    const others = ids.filter((_, i) => fold[i] !== f);
    const strangers = ids.filter((_, i) => fold[i] === f);
    if (others.length < size) continue;
    for (let d = 0; d < draws; d++) {
      const gallery = shuffled(others.length, rand)
        .slice(0, size)
        .map((i) => others[i]!);
      const matcher = galleryMatcher(gallery, opts);
      let mated: [Float32Array[], string][] = [];
      for (const id of gallery) {
        const from = opts.probeFrom ?? enrolCount(id, opts.photos);
        if (id.images.length < 2 || id.images.length <= from) continue;
        for (const w of windows(id.images, from, keys)) mated.push([w, id.name]);
      }
      if (opts.maxMated && mated.length > opts.maxMated)
        mated = shuffled(mated.length, rand)
          .slice(0, opts.maxMated)
          .map((i) => mated[i]!);
      for (const [w, name] of mated) out.push(probe(matcher, w, name, check));
      for (const s of strangers) for (const w of windows(s.images, 0, keys)) out.push(probe(matcher, w, null, check));
    }
  }
  return out;
}

/** rank-1 of the mated probes (closed set). */
export const rank1 = (outcomes: readonly Outcome[]) => {
  const m = outcomes.filter((o) => o.mated);
  return m.length ? m.filter((o) => o.right).length / m.length : 0;
};

/** Scores kept per stranger probe (its highest similarities to the people it could meet). */
const TOP = 256;

export interface StrangerTails {
  /** Per stranger probe: its TOP highest scores against every person outside its fold, descending. */
  top: Float32Array[];
  /** Per stranger probe: how many people it was scored against (M). */
  pool: number[];
  /** Per stranger probe: in the check half. */
  check: boolean[];
  /** Per stranger probe: the identity it is of (a person's probes rise and fall together). */
  who: number[];
}

/** Score of a probe (the mean of its faces) against one person: best-of over their enrolled vectors. */
function personScore(m: Float32Array, samples: readonly Float32Array[]): number {
  let b = -Infinity;
  for (const s of samples) {
    let d = 0;
    for (let i = 0; i < m.length; i++) d += m[i]! * s[i]!;
    if (d > b) b = d;
  }
  return b;
}

/** Enrolled vectors of one person, as galleryMatcher enrols them (normalised). */
function enrolled(id: Identity, opts: Pick<ProtocolOptions, 'photos' | 'flip' | 'combine'>): Float32Array[] {
  const vs = enrolledPhotos(id, enrolCount(id, opts.photos), opts.flip).map(unit);
  if (opts.combine === 'centroid') return [unit(mean(vs))];
  return opts.combine === 'samples+centroid' && vs.length > 1 ? [...vs, unit(mean(vs))] : vs;
}

/**
 * Every stranger probe (face, or track of `keys` photos) scored against every person outside its fold: what a
 * random gallery of N of those people would show it, for any N (fpirAt).
 */
export function strangerTails(ids: readonly Identity[], fold: readonly number[], opts: ProtocolOptions): StrangerTails {
  const keys = Math.max(1, opts.keys ?? 1);
  const out: StrangerTails = { top: [], pool: [], check: [], who: [] };
  const vectors = ids.map((id) => enrolled(id, opts));
  for (let f = 0; f < FOLDS; f++) {
    const others = ids.map((_, i) => i).filter((i) => fold[i] !== f);
    for (let i = 0; i < ids.length; i++) {
      if (fold[i] !== f) continue;
      for (const w of windows(ids[i]!.images, 0, keys)) {
        const m = unit(meanOfUnits(w.map((e) => ({ embedding: e, weight: 1 })))!);
        const scores = new Float32Array(others.length);
        others.forEach((j, k) => (scores[k] = personScore(m, vectors[j]!)));
        scores.sort();
        out.top.push(scores.slice(Math.max(0, scores.length - TOP)).reverse());
        out.pool.push(others.length);
        out.check.push(f % 2 === 1);
        out.who.push(i);
      }
    }
  }
  return out;
}

/** Probability that a random gallery of n of M people includes none of the c above the threshold. */
function missAll(M: number, c: number, n: number): number {
  if (c === 0) return 1;
  if (n > M - c) return 0;
  let logp = 0;
  for (let i = 0; i < n; i++) logp += Math.log((M - c - i) / (M - i));
  return Math.exp(logp);
}

/**
 * False-name rate of strangers (of one half) at gallery size n and threshold t: each stranger's chance that a
 * random gallery holds someone scoring ≥ t, averaged over strangers (the margin rule is left out, so this is an
 * upper bound of what the matcher does). With `z`, the one-sided upper confidence bound of that mean instead: the
 * strangers are a sample, and near 1e-3 a handful of them decide it. The bound treats each person's probes as one
 * cluster (their tracks share photos and look-alikes, so they are not independent).
 */
export function fpirAt(tails: StrangerTails, half: 'fit' | 'check', n: number, t: number, z = 0): number {
  const perWho = new Map<number, { named: number; probes: number }>();
  let sum = 0;
  let count = 0;
  const cache = new Map<string, number>();
  tails.top.forEach((top, s) => {
    if (tails.check[s] !== (half === 'check')) return;
    count++;
    const w = tails.who[s] ?? s;
    const c0 = perWho.get(w) ?? { named: 0, probes: 0 };
    c0.probes++;
    perWho.set(w, c0);
    let c = 0;
    while (c < top.length && top[c]! >= t) c++;
    if (c === 0) return;
    const M = tails.pool[s]!;
    const key = `${M}:${c}`;
    let miss = cache.get(key);
    if (miss === undefined) cache.set(key, (miss = missAll(M, c, n)));
    sum += 1 - miss;
    c0.named += 1 - miss;
  });
  if (!count) return 0;
  const mean = sum / count;
  if (!z) return mean;
  const k = perWho.size;
  let ss = 0;
  for (const c of perWho.values()) ss += (c.named - c.probes * mean) ** 2;
  const se = k > 1 ? Math.sqrt((k / (k - 1)) * ss) / count : 0;
  return mean + z * se;
}

/** One-sided 95 % normal quantile: the fit keeps the upper confidence bound of the false-name rate at the target. */
export const FIT_CONFIDENCE_Z = 1.645;

/**
 * Lowest threshold (to 0.001) at which the fit half's false-name rate at gallery size n is within the target with
 * 95 % confidence (its upper bound, fpirAt with z); z = 0 fits the estimate itself.
 */
export function fitThreshold(tails: StrangerTails, n: number, target: number, z = FIT_CONFIDENCE_Z): number {
  let lo = -1;
  let hi = 1.001;
  // FPIR falls as t rises: bisect to 0.001.
  while (hi - lo > 0.001) {
    const mid = (lo + hi) / 2;
    if (fpirAt(tails, 'fit', n, mid, z) <= target) hi = mid;
    else lo = mid;
  }
  return Math.ceil(hi * 1000) / 1000;
}
