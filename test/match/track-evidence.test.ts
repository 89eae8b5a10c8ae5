import { describe, expect, it } from 'vitest';
import { Matcher } from '../../src/match/matcher.js';
import { meanOfUnits, trackEvidence } from '../../src/match/track-evidence.js';
import { randomUnit, rng, unitWithCosine } from '../../src/match/random.js';
import { addKey, KEY_SAME, MAX_KEYS } from '../../src/track/keys.js';
import { Tracker } from '../../src/track/tracker.js';
import { trackSchema } from '../../src/config/schema.js';
import type { Person, Sample } from '../../src/store/types.js';
import type { FaceQuality } from '../../src/vision/types.js';

const D = 128;
const rand = rng(11);
const person = (id: string): Person => ({ id, name: id, created: '', notes: '' });
const sample = (personId: string, v: Float32Array, i = 0): Sample => ({
  id: `${personId}-${i}`,
  personId,
  embedding: Float32Array.from(v),
  modelId: 'm',
  quality: { size: 112, score: 1, blur: 100, yaw: 0, pitch: 0, roll: 0 },
  source: 'cli',
  created: '',
  negative: false,
});
const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i]!, 0);

describe('track evidence', () => {
  const a = randomUnit(D, rand);
  const b = randomUnit(D, rand);
  const matcher = new Matcher([person('a'), person('b')], [sample('a', a), sample('b', b)], 'm', {
    threshold: 0.9,
    margin: 0.05,
    trimFraction: 0,
    negativeMargin: 0,
  });

  it("scores a person by the cosine of the track's mean face direction to them", () => {
    const faces = [0.72, 0.55, 0.61].map((c) => ({ embedding: unitWithCosine(a, c, rand), weight: 1 }));
    const e = trackEvidence(matcher, faces, 0.6);
    expect(e.candidate?.person.id).toBe('a');
    const m = meanOfUnits(faces)!;
    const expected = dot(m, a) / Math.sqrt(dot(m, m));
    expect(e.similarity).toBeCloseTo(expected, 4);
    // The faces' errors point different ways and cancel in the mean: the track is more alike than its faces.
    expect(e.similarity).toBeGreaterThan(0.72);
    expect(e.named).toBe(true); // above 0.6, though two faces alone are under it
    // On the faces' own scale the threshold is lower by the mean's length: their mean similarity (0.627) reaches it.
    expect(e.faceThreshold).toBeCloseTo(0.6 * Math.sqrt(dot(m, m)), 4);
    expect((0.72 + 0.55 + 0.61) / 3).toBeGreaterThanOrEqual(e.faceThreshold);
    expect(trackEvidence(matcher, faces, expected + 0.01).named).toBe(false);
    // The threshold is not applied when -1: only the margin rule.
    expect(trackEvidence(matcher, faces)).toMatchObject({ nameable: true, named: true });
  });

  it('weights faces by quality and leaves zero-weight or broken faces out', () => {
    const f1 = unitWithCosine(a, 0.8, rand);
    const f2 = unitWithCosine(a, 0.4, rand);
    const m = meanOfUnits([
      { embedding: f1, weight: 3 },
      { embedding: f2, weight: 1 },
      { embedding: new Float32Array(D), weight: 1 },
      { embedding: f2, weight: 0 },
    ])!;
    expect(dot(m, a)).toBeCloseTo((3 * 0.8 + 0.4) / 4, 4);
    expect(meanOfUnits([])).toBeNull();
  });

  it('holds back a track as close to two people (margin) and names nobody with nobody enrolled', () => {
    const mid = new Float32Array(D).map((_, i) => a[i]! + b[i]!);
    const e = trackEvidence(matcher, [{ embedding: mid, weight: 1 }], 0.1);
    expect(e).toMatchObject({ named: false, nameable: false, reason: 'ambiguous' });
    const empty = new Matcher([], [], 'm', { threshold: 0.5, margin: 0.05, trimFraction: 0, negativeMargin: 0 });
    expect(trackEvidence(empty, [{ embedding: a, weight: 1 }], 0.5)).toMatchObject({ named: false, similarity: -1, candidate: null });
  });
});

describe('key faces', () => {
  it('keeps different looks, one face per look (the better one), at most MAX_KEYS', () => {
    const base = randomUnit(D, rand);
    const keys: { embedding: Float32Array; weight: number }[] = [];
    addKey(keys, { embedding: base, weight: 0.5 });
    addKey(keys, { embedding: unitWithCosine(base, KEY_SAME + 0.05, rand), weight: 0.4 }); // same look, worse: ignored
    expect(keys).toHaveLength(1);
    expect(keys[0]!.weight).toBe(0.5);
    const better = unitWithCosine(base, 0.97, rand);
    addKey(keys, { embedding: better, weight: 0.9 }); // same look, better: replaces
    expect(keys).toEqual([{ embedding: better, weight: 0.9 }]);
    for (let i = 0; i < MAX_KEYS + 2; i++) addKey(keys, { embedding: unitWithCosine(base, 0.5, rand), weight: 0.1 * (i + 1) });
    expect(keys).toHaveLength(MAX_KEYS);
    // The weakest looks made way for stronger ones.
    expect(Math.min(...keys.map((k) => k.weight))).toBeGreaterThan(0.25);
  });
});

describe('Tracker named from its key faces', () => {
  const good: FaceQuality = { size: 120, score: 1, blur: 150, yaw: 0, pitch: 0, roll: 0 };
  const a = randomUnit(D, rand);
  const others = Array.from({ length: 20 }, () => randomUnit(D, rand));
  const people = [person('a'), ...others.map((_, i) => person(`o${i}`))];
  const matcher = new Matcher(people, [sample('a', a), ...others.map((v, i) => sample(`o${i}`, v))], 'm', {
    threshold: 0.7,
    margin: 0.05,
    trimFraction: 0,
    negativeMargin: 0,
  });
  const run = (cosines: number[], trackThreshold: number, oneLook = false) => {
    const t = new Tracker('cam', trackSchema.parse({ confirmFrames: 3, unknownFrames: 3 }));
    const look = unitWithCosine(a, cosines[0]!, rand);
    const out = [];
    for (const [i, c] of cosines.entries()) {
      const embedding = oneLook ? unitWithCosine(look, 0.97, rand) : unitWithCosine(a, c, rand);
      const u = t.update(i * 100, [
        {
          box: [100, 100, 200, 200],
          quality: good,
          face: { aligned: { width: 1, height: 1, data: new Uint8Array(3) }, embedding },
          match: matcher.match(embedding),
          support: (id) => matcher.similarityTo(embedding, id),
          judge: (keys) => trackEvidence(matcher, keys, trackThreshold),
        },
      ]);
      out.push(...u.decisions);
    }
    return out;
  };

  it('names a person whose faces are each under the per-face threshold once their mean reaches the track threshold', () => {
    // Different looks of one person, each under 0.7 (the per-face threshold): no face alone names them.
    const d = run([0.66, 0.62, 0.64, 0.65], 0.6);
    expect(d[0]).toMatchObject({ type: 'new', person: { id: 'a' } });
    expect(d[0]!.similarity).toBeGreaterThan(0.6);
  });

  it('leaves a track unknown when the mean stays under the track threshold', () => {
    // One look (the tracker's appearance check holds the faces together), about 0.5 alike to the person.
    const d = run([0.5, 0.5, 0.5, 0.5], 0.6, true);
    expect(d[0]).toMatchObject({ type: 'new', person: null });
    expect(d[0]!.similarity).toBeLessThan(0.6);
  });
});
