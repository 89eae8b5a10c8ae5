import { describe, expect, it } from 'vitest';
import { Matcher, matcherOptions, type MatcherOptions } from '../../src/match/matcher.js';
import { randomUnit, rng, unitWithCosine } from '../../src/match/random.js';
import { similarityErrorBound } from '../../src/match/rows.js';
import type { Person, Sample } from '../../src/store/types.js';
import { defaultConfig } from '../../src/config/schema.js';

const D = 192;
const quality = { size: 112, score: 1, blur: 100, yaw: 0, pitch: 0, roll: 0 };
const opts = (o: Partial<MatcherOptions> = {}): MatcherOptions => ({ threshold: 0.5, margin: 0.05, trimFraction: 0.2, negativeMargin: 0, ...o });
const cos = (a: Float32Array, b: Float32Array) => a.reduce((s, v, i) => s + v * b[i]!, 0);

let n = 0;
const person = (name: string): Person => ({ id: `id-${name}`, name, created: '', notes: '' });
const sample = (p: Person, e: Float32Array, extra: Partial<Sample> = {}): Sample => ({
  id: `s${n++}`,
  personId: p.id,
  embedding: Float32Array.from(e),
  modelId: 'm1',
  quality,
  source: 'cli',
  created: '',
  negative: false,
  ...extra,
});

describe('Matcher', () => {
  const rand = rng(42);
  const q = randomUnit(D, rand);
  const alice = person('alice');
  const bob = person('bob');

  it('unitWithCosine builds vectors with the requested cosine', () => {
    for (const c of [-0.3, 0, 0.42, 0.9]) expect(cos(q, unitWithCosine(q, c, rand))).toBeCloseTo(c, 5);
  });

  it('says empty without samples, and ignores samples of other models', () => {
    const m = new Matcher([alice], [sample(alice, q, { modelId: 'other' })], 'm1', opts());
    expect(m.skipped).toBe(1);
    expect(m.match(q).reason).toBe('empty');
    expect(m.match(q).person).toBeNull();
  });

  it('names a person only at or above the threshold', () => {
    const a = unitWithCosine(q, 0.62, rand);
    const m = new Matcher([alice, bob], [sample(alice, a), sample(bob, unitWithCosine(q, 0.1, rand))], 'm1', opts({ threshold: 0.6 }));
    const r = m.match(q);
    expect(r.reason).toBe('match');
    expect(r.person).toEqual({ id: alice.id, name: 'alice' });
    expect(r.similarity).toBeCloseTo(0.62, 4);
    const strict = new Matcher([alice, bob], [sample(alice, a), sample(bob, unitWithCosine(q, 0.1, rand))], 'm1', opts({ threshold: 0.65 }));
    const r2 = strict.match(q);
    expect(r2.person).toBeNull();
    expect(r2.reason).toBe('below-threshold');
    expect(r2.candidate?.person.name).toBe('alice');
    expect(r2.secondBest?.person.name).toBe('bob');
  });

  it('refuses a name when the runner-up is within the margin', () => {
    const samples = [sample(alice, unitWithCosine(q, 0.7, rand)), sample(bob, unitWithCosine(q, 0.67, rand))];
    const r = new Matcher([alice, bob], samples, 'm1', opts({ margin: 0.05 })).match(q);
    expect(r.reason).toBe('ambiguous');
    expect(r.person).toBeNull();
    expect(r.secondBest?.similarity).toBeCloseTo(0.67, 4);
    const r2 = new Matcher([alice, bob], samples, 'm1', opts({ margin: 0.02 })).match(q);
    expect(r2.person?.name).toBe('alice');
  });

  it('ranks by (best + trimmed mean) / 2, dropping the lowest samples', () => {
    // alice: one lucky sample at 0.8, the rest low; bob: consistent 0.72.
    const a = [0.8, 0.3, 0.3, 0.3, 0.3].map((c) => sample(alice, unitWithCosine(q, c, rand)));
    const b = [0.72, 0.72, 0.72, 0.72, 0.2].map((c) => sample(bob, unitWithCosine(q, c, rand)));
    const m = new Matcher([alice, bob], [...a, ...b], 'm1', opts({ trimFraction: 0.2 }));
    const r = m.match(q);
    // trim 20% of 5 = 1 lowest: alice mean(0.8,.3,.3,.3)=0.425 → score 0.6125; bob mean(4×0.72)=0.72 → 0.72.
    expect(r.person?.name).toBe('bob');
    expect(r.score).toBeCloseTo(0.72, 4);
    expect(r.similarity).toBeCloseTo(0.72, 4);
    expect(r.secondBest?.person.name).toBe('alice');
    expect(r.secondBest?.score).toBeCloseTo(0.6125, 4);
    // Without trimming bob's outlier counts: mean 0.616 → score 0.668.
    const r0 = new Matcher([alice, bob], [...a, ...b], 'm1', opts({ trimFraction: 0 })).match(q);
    expect(r0.score).toBeCloseTo((0.72 + 0.616) / 2, 4);
  });

  it('keeps a face away from a person with a matching negative sample', () => {
    const samples = [sample(alice, unitWithCosine(q, 0.7, rand)), sample(alice, unitWithCosine(q, 0.75, rand), { negative: true })];
    const r = new Matcher([alice], samples, 'm1', opts()).match(q);
    expect(r.person).toBeNull();
    expect(r.reason).toBe('negative');
    // A negative farther than the positives does nothing.
    const far = [sample(alice, unitWithCosine(q, 0.7, rand)), sample(alice, unitWithCosine(q, 0.6, rand), { negative: true })];
    expect(new Matcher([alice], far, 'm1', opts()).match(q).person?.name).toBe('alice');
    // negativeMargin: the negative must beat the positives by that much.
    expect(new Matcher([alice], samples, 'm1', opts({ negativeMargin: 0.1 })).match(q).person?.name).toBe('alice');
  });

  it('passes over a vetoed person to the next one', () => {
    const samples = [
      sample(alice, unitWithCosine(q, 0.8, rand)),
      sample(alice, unitWithCosine(q, 0.85, rand), { negative: true }),
      sample(bob, unitWithCosine(q, 0.7, rand)),
    ];
    const r = new Matcher([alice, bob], samples, 'm1', opts()).match(q);
    expect(r.person?.name).toBe('bob');
    expect(r.secondBest).toBeNull();
  });

  it('matchMany matches each face of a batch', () => {
    const pa = randomUnit(D, rand);
    const pb = randomUnit(D, rand);
    const m = new Matcher([alice, bob], [sample(alice, pa), sample(bob, pb)], 'm1', opts());
    const r = m.matchMany([unitWithCosine(pa, 0.8, rand), unitWithCosine(pb, 0.8, rand), randomUnit(D, rand)]);
    expect(r.map((x) => x.person?.name ?? null)).toEqual(['alice', 'bob', null]);
  });

  it('rejects an embedding of the wrong size with a clear error', () => {
    const m = new Matcher([alice], [sample(alice, q)], 'm1', opts());
    expect(() => m.match(new Float32Array(128).fill(1))).toThrow(/128 values/);
  });

  it('takes the threshold from config, else from the engine', () => {
    const c = defaultConfig();
    expect(matcherOptions(c.match, 0.42).threshold).toBe(0.42);
    expect(matcherOptions({ ...c.match, threshold: 0.3 }, 0.42).threshold).toBe(0.3);
  });

  it('agrees with a brute-force search over many people', () => {
    const people = Array.from({ length: 60 }, (_, i) => person(`p${i}`));
    const centres = people.map(() => randomUnit(D, rand));
    const samples = people.flatMap((p, i) => Array.from({ length: 1 + (i % 7) }, () => sample(p, unitWithCosine(centres[i]!, 0.6, rand))));
    const m = new Matcher(people, samples, 'm1', opts({ threshold: 0.3, trimFraction: 0.3 }));
    let checked = 0;
    for (let t = 0; t < 30; t++) {
      const face = unitWithCosine(centres[t]!, 0.55, rand);
      const scores = people.map((p) => {
        const sims = samples
          .filter((s) => s.personId === p.id)
          .map((s) => cos(face, Float32Array.from(s.embedding)))
          .sort((a, b) => a - b);
        const kept = sims.slice(Math.floor(0.3 * sims.length));
        return { name: p.name, best: sims.at(-1)!, score: (sims.at(-1)! + kept.reduce((a, b) => a + b, 0) / kept.length) / 2 };
      });
      scores.sort((a, b) => b.score - a.score);
      const r = m.match(face);
      // The index's rows are int16 fixed point: its similarities (and so scores) are within `eps` of the float
      // ones, and only people whose float scores are closer than twice that may trade places.
      const eps = similarityErrorBound(D);
      const apart = (x: number, y: number) => Math.abs(x - y) > 2 * eps;
      if (apart(scores[0]!.score, scores[1]!.score)) expect(r.candidate?.person.name).toBe(scores[0]!.name);
      expect(Math.abs(r.score - scores[0]!.score)).toBeLessThanOrEqual(eps);
      if (apart(scores[1]!.score, scores[2]!.score) && apart(scores[0]!.score, scores[1]!.score)) expect(r.secondBest?.person.name).toBe(scores[1]!.name);
      const gap = scores[0]!.score - scores[1]!.score;
      const named = scores[0]!.best >= 0.3 && gap >= 0.05;
      if (Math.abs(scores[0]!.best - 0.3) > eps && Math.abs(gap - 0.05) > 2 * eps) expect(r.person?.name ?? null).toBe(named ? scores[0]!.name : null);
      checked += apart(scores[0]!.score, scores[1]!.score) ? 1 : 0;
    }
    // Near-ties are rare: almost every face was checked in full.
    expect(checked).toBeGreaterThanOrEqual(27);
  });
});

describe('Matcher with centroids', () => {
  const rand = rng(7);
  const carol = person('carol');
  const dave = person('dave');

  it("scores a person by their best sample or their samples' centroid, whichever is closer", () => {
    const me = randomUnit(D, rand);
    // Three photos, each 0.6 alike to the face: one by one none reaches 0.7, their mean does.
    const photos = [0, 1, 2].map(() => unitWithCosine(me, 0.6, rand));
    const samples = photos.map((p) => sample(carol, p));
    const plain = new Matcher([carol], samples, 'm1', opts({ threshold: 0.7 }));
    const withCentroid = new Matcher([carol], samples, 'm1', opts({ threshold: 0.7, centroids: true }));
    expect(plain.match(me).person).toBeNull();
    const r = withCentroid.match(me);
    expect(r.person?.id).toBe(carol.id);
    const mean = new Float32Array(D).map((_, i) => photos.reduce((s, p) => s + p[i]!, 0));
    expect(r.similarity).toBeCloseTo(cos(me, mean) / Math.sqrt(cos(mean, mean)), 4);
    expect(withCentroid.size).toBe(4);
  });

  it('adds no centroid for a person with one sample, and the live options turn centroids on', () => {
    const m = new Matcher([dave], [sample(dave, randomUnit(D, rand))], 'm1', opts({ centroids: true }));
    expect(m.size).toBe(1);
    expect(matcherOptions(defaultConfig().match, 0.5).centroids).toBe(true);
  });
});
